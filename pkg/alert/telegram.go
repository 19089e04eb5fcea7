// Package alert tells the shop owner in Telegram when the integration needs
// a human: runs keep failing, amoCRM banned the account, an order was
// quarantined, the refresh token is about to die, or nothing succeeded for
// half an hour. Alerts are decided from a status.Report, so every run and
// doctor can check them cheaply, and the same alert is not repeated within
// an hour (the last sending times live in settings).
package alert

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// DefaultBaseURL is the Telegram Bot API.
const DefaultBaseURL = "https://api.telegram.org"

// Telegram sends messages through a bot. The bot token is part of the
// request URL, so no error or log line built here ever contains the URL.
type Telegram struct {
	token   string
	chatID  string
	baseURL string
	client  *http.Client
}

// NewTelegram returns a sender, or nil when the bot token or chat id is
// empty (alerts are optional). baseURL "" means DefaultBaseURL; client nil
// means a client with a 10 s timeout.
func NewTelegram(botToken, chatID, baseURL string, client *http.Client) *Telegram {
	botToken, chatID = strings.TrimSpace(botToken), strings.TrimSpace(chatID)
	if botToken == "" || chatID == "" {
		return nil
	}
	if baseURL == "" {
		baseURL = DefaultBaseURL
	}
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	return &Telegram{token: botToken, chatID: chatID, baseURL: strings.TrimRight(baseURL, "/"), client: client}
}

// ErrTelegram is returned (wrapped) when Telegram refuses a message.
var ErrTelegram = errors.New("telegram refused the message")

// Send posts one text message to the chat.
func (t *Telegram) Send(ctx context.Context, text string) error {
	body, err := json.Marshal(map[string]any{
		"chat_id":                  t.chatID,
		"text":                     text,
		"disable_web_page_preview": true,
	})
	if err != nil {
		return fmt.Errorf("alert: encode message: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.baseURL+"/bot"+t.token+"/sendMessage", bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("alert: build telegram request: %s", t.scrub(err.Error()))
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := t.client.Do(req)
	if err != nil {
		// *url.Error carries the URL, which carries the token: keep only
		// the cause, and scrub it too in case a proxy echoed the URL.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return fmt.Errorf("alert: telegram sendMessage: %s", t.scrub(err.Error()))
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	var ans struct {
		OK          bool   `json:"ok"`
		ErrorCode   int    `json:"error_code"`
		Description string `json:"description"`
	}
	_ = json.Unmarshal(raw, &ans)
	if resp.StatusCode != http.StatusOK || !ans.OK {
		desc := ans.Description
		if desc == "" {
			desc = http.StatusText(resp.StatusCode)
		}
		return fmt.Errorf("alert: telegram sendMessage: HTTP %d: %s: %w", resp.StatusCode, t.scrub(desc), ErrTelegram)
	}
	return nil
}

func (t *Telegram) scrub(s string) string {
	return strings.ReplaceAll(s, t.token, "<bot-token>")
}
