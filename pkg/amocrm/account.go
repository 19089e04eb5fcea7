package amocrm

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"

	"kaspi-amocrm/pkg/domain"
)

// Account is GET /api/v4/account.
type Account struct {
	ID        int64  `json:"id"`
	Name      string `json:"name"`
	Subdomain string `json:"subdomain"`
	Country   string `json:"country"`
	Currency  string `json:"currency"`
}

// Pipeline is a lead pipeline with its statuses.
type Pipeline struct {
	ID     int64
	Name   string
	Sort   int // amoCRM's display order
	IsMain bool
	// Color is kept when amoCRM sends one; its pipelines carry none today
	// (their statuses do).
	Color    string
	Statuses []Status
}

// Status is a pipeline stage (142 won and 143 lost are in every pipeline).
type Status struct {
	ID         int64
	Name       string
	PipelineID int64
	Sort       int    // display order within the pipeline
	Type       int    // 1 = incoming (unsorted)
	Color      string // "#99ccff"
}

// User is an account user (a possible responsible user).
type User struct {
	ID    int64
	Name  string
	Email string
}

// Account reads the account the stored token belongs to.
func (c *Client) Account(ctx context.Context) (Account, error) {
	var a Account
	_, err := c.do(ctx, call{op: "account", method: http.MethodGet, path: "/api/v4/account", out: &a})
	return a, err
}

// VerifyToken reads the account with a freshly exchanged access token,
// before it is stored (the OAuth callback checks it names the configured
// account). A 401 is final: nothing is refreshed.
func (c *Client) VerifyToken(ctx context.Context, t domain.Token) (Account, error) {
	if t.AccessToken == "" {
		return Account{}, fmt.Errorf("amocrm: verify token: empty access token: %w", domain.ErrBadRequest)
	}
	var a Account
	_, err := c.do(ctx, call{op: "verify token", method: http.MethodGet, path: "/api/v4/account", out: &a, token: t.AccessToken})
	return a, err
}

// Pipelines lists every pipeline with its statuses.
func (c *Client) Pipelines(ctx context.Context) ([]Pipeline, error) {
	var out []Pipeline
	err := getPages(ctx, c, "pipelines", "/api/v4/leads/pipelines", nil, func(emb struct {
		Pipelines []struct {
			ID       int64  `json:"id"`
			Name     string `json:"name"`
			Sort     int    `json:"sort"`
			IsMain   bool   `json:"is_main"`
			Color    string `json:"color"`
			Embedded struct {
				Statuses []struct {
					ID         int64  `json:"id"`
					Name       string `json:"name"`
					PipelineID int64  `json:"pipeline_id"`
					Sort       int    `json:"sort"`
					Type       int    `json:"type"`
					Color      string `json:"color"`
				} `json:"statuses"`
			} `json:"_embedded"`
		} `json:"pipelines"`
	}) error {
		for _, p := range emb.Pipelines {
			pl := Pipeline{ID: p.ID, Name: p.Name, Sort: p.Sort, IsMain: p.IsMain, Color: p.Color}
			for _, s := range p.Embedded.Statuses {
				st := Status{ID: s.ID, Name: s.Name, PipelineID: s.PipelineID, Sort: s.Sort, Type: s.Type, Color: s.Color}
				if st.PipelineID == 0 {
					st.PipelineID = p.ID
				}
				pl.Statuses = append(pl.Statuses, st)
			}
			out = append(out, pl)
		}
		return nil
	})
	return out, err
}

// Users lists the account's users (every page).
func (c *Client) Users(ctx context.Context) ([]User, error) {
	var out []User
	err := getPages(ctx, c, "users", "/api/v4/users", nil, func(emb struct {
		Users []struct {
			ID    int64  `json:"id"`
			Name  string `json:"name"`
			Email string `json:"email"`
		} `json:"users"`
	}) error {
		for _, u := range emb.Users {
			out = append(out, User{ID: u.ID, Name: u.Name, Email: u.Email})
		}
		return nil
	})
	return out, err
}

var entityRe = regexp.MustCompile(`^(leads|contacts|companies|catalogs/[1-9][0-9]*)$`)

// CustomFields lists the field definitions of "leads", "contacts",
// "companies" or "catalogs/{id}" (every page).
func (c *Client) CustomFields(ctx context.Context, entity string) ([]domain.FieldDef, error) {
	entity = strings.Trim(entity, "/")
	if !entityRe.MatchString(entity) {
		return nil, fmt.Errorf("amocrm: custom fields: unknown entity %q: %w", entity, domain.ErrBadRequest)
	}
	var out []domain.FieldDef
	err := getPages(ctx, c, "custom fields of "+entity, "/api/v4/"+entity+"/custom_fields", nil, func(emb struct {
		Fields []struct {
			ID         int64  `json:"id"`
			Name       string `json:"name"`
			Code       string `json:"code"`
			Type       string `json:"type"`
			EntityType string `json:"entity_type"`
		} `json:"custom_fields"`
	}) error {
		for _, f := range emb.Fields {
			out = append(out, domain.FieldDef{ID: f.ID, Name: f.Name, Code: f.Code, Type: f.Type, EntityType: f.EntityType})
		}
		return nil
	})
	return out, err
}

// AccountLists implements domain.AccountReader: the account's time zone,
// the pipelines with their stages and the users (three requests; more
// pages when there are many).
func (c *Client) AccountLists(ctx context.Context) (domain.AccountLists, error) {
	var out domain.AccountLists
	var acc struct {
		Embedded struct {
			DatetimeSettings struct {
				Timezone string `json:"timezone"`
			} `json:"datetime_settings"`
		} `json:"_embedded"`
	}
	if _, err := c.do(ctx, call{op: "account", method: http.MethodGet, path: "/api/v4/account",
		query: url.Values{"with": {"datetime_settings"}}, out: &acc}); err != nil {
		return out, err
	}
	out.Timezone = acc.Embedded.DatetimeSettings.Timezone
	pls, err := c.Pipelines(ctx)
	if err != nil {
		return out, err
	}
	for _, p := range pls {
		pi := domain.PipelineInfo{ID: p.ID, Name: p.Name, IsMain: p.IsMain}
		for _, s := range p.Statuses {
			pi.Stages = append(pi.Stages, domain.Stage{ID: s.ID, Name: s.Name, Type: s.Type})
		}
		out.Pipelines = append(out.Pipelines, pi)
	}
	users, err := c.Users(ctx)
	if errors.Is(err, domain.ErrForbidden) {
		// The list is admin-only: the responsible user is not checked.
		out.UsersSkipped = "список пользователей amoCRM доступен только администратору; AMO_RESPONSIBLE_USER_ID не проверен"
		return out, nil
	}
	if err != nil {
		return out, err
	}
	for _, u := range users {
		out.Users = append(out.Users, domain.UserInfo{ID: u.ID, Name: u.Name})
	}
	return out, nil
}
