package alert

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

const testBotToken = "123456:SECRET-bot-token-do-not-log"

// fakeTelegram records sendMessage calls like the Bot API receives them.
type fakeTelegram struct {
	mu       sync.Mutex
	messages []sentMessage
	fail     int // answer this many calls with an error first
}

type sentMessage struct {
	Path   string
	ChatID string
	Text   string
}

func newFakeTelegram(t *testing.T) (*fakeTelegram, *httptest.Server) {
	t.Helper()
	f := &fakeTelegram{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		defer f.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		if r.Method != http.MethodPost || r.URL.Path != "/bot"+testBotToken+"/sendMessage" {
			w.WriteHeader(http.StatusNotFound)
			io.WriteString(w, `{"ok":false,"error_code":404,"description":"Not Found"}`)
			return
		}
		if f.fail > 0 {
			f.fail--
			w.WriteHeader(http.StatusBadRequest)
			io.WriteString(w, `{"ok":false,"error_code":400,"description":"Bad Request: chat not found"}`)
			return
		}
		var body struct {
			ChatID string `json:"chat_id"`
			Text   string `json:"text"`
		}
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil || body.Text == "" || body.ChatID == "" {
			w.WriteHeader(http.StatusBadRequest)
			io.WriteString(w, `{"ok":false,"error_code":400,"description":"Bad Request: message text is empty"}`)
			return
		}
		f.messages = append(f.messages, sentMessage{Path: r.URL.Path, ChatID: body.ChatID, Text: body.Text})
		io.WriteString(w, `{"ok":true,"result":{"message_id":1}}`)
	}))
	t.Cleanup(srv.Close)
	return f, srv
}

func (f *fakeTelegram) sent() []sentMessage {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]sentMessage(nil), f.messages...)
}

func TestTelegram_SendPostsSendMessageToTheChat(t *testing.T) {
	f, srv := newFakeTelegram(t)
	tg := NewTelegram(testBotToken, "-100200300", srv.URL, srv.Client())
	if err := tg.Send(context.Background(), "Привет"); err != nil {
		t.Fatal(err)
	}
	got := f.sent()
	if len(got) != 1 || got[0].ChatID != "-100200300" || got[0].Text != "Привет" {
		t.Fatalf("sent %+v", got)
	}
}

func TestNewTelegram_NotConfiguredIsNil(t *testing.T) {
	if NewTelegram("", "1", "", nil) != nil || NewTelegram("x", " ", "", nil) != nil {
		t.Fatal("an empty bot token or chat id must disable alerts")
	}
}

func TestTelegram_ErrorsNeverContainTheBotToken(t *testing.T) {
	f, srv := newFakeTelegram(t)
	f.fail = 1
	tg := NewTelegram(testBotToken, "1", srv.URL, srv.Client())
	err := tg.Send(context.Background(), "x")
	if !errors.Is(err, ErrTelegram) {
		t.Fatalf("refusal: got %v, want ErrTelegram", err)
	}
	if strings.Contains(err.Error(), testBotToken) || strings.Contains(err.Error(), "SECRET") {
		t.Fatalf("error leaks the token: %v", err)
	}

	// A transport error (server gone) normally quotes the URL with the token.
	srv.Close()
	err = tg.Send(context.Background(), "x")
	if err == nil {
		t.Fatal("want an error from a closed server")
	}
	if strings.Contains(err.Error(), "SECRET") {
		t.Fatalf("transport error leaks the token: %v", err)
	}
}
