package sandbox

import (
	"html/template"
	"net/http"
	"net/url"
	"strings"
)

// authorizePage stands in for amoCRM's authorize page (www.amocrm.ru/oauth)
// so that INSTALL's step 5, oauth_callback.cgi?start=1, works end to end
// against the sandbox: GET shows the integration and an «Разрешить»
// button; POST sends the owner back to the registered redirect URI with
// code, state, referer (the account host) and client_id, as amoCRM does
// (amoCRM's OAuth documentation, "Authorization code"). An unknown
// client_id or a missing state is refused, as amoCRM refuses them.
func (sb *Sandbox) authorizePage() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodPost {
			w.Header().Set("Allow", "GET, POST")
			http.Error(w, "Method Not Allowed", http.StatusMethodNotAllowed)
			return
		}
		if err := r.ParseForm(); err != nil {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		o := sb.Amo.Options()
		clientID, state := r.FormValue("client_id"), r.FormValue("state")
		if clientID != o.ClientID {
			http.Error(w, "Интеграция не найдена (неверный client_id)", http.StatusBadRequest)
			return
		}
		if state == "" {
			http.Error(w, "state is required", http.StatusBadRequest)
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		if r.Method == http.MethodGet {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			authorizeTmpl.Execute(w, map[string]string{"ClientID": clientID, "State": state, "Redirect": o.RedirectURI})
			return
		}
		q := url.Values{
			"code":      {sb.Amo.IssueCode()},
			"state":     {state},
			"referer":   {strings.TrimPrefix(sb.AmoURL, "http://")},
			"client_id": {clientID},
		}
		sep := "?"
		if strings.Contains(o.RedirectURI, "?") {
			sep = "&"
		}
		http.Redirect(w, r, o.RedirectURI+sep+q.Encode(), http.StatusFound)
	})
}

var authorizeTmpl = template.Must(template.New("authorize").Parse(`<!doctype html>
<html lang="ru"><head><meta charset="utf-8"><title>Песочница amoCRM: предоставить доступ</title></head>
<body style="font:15px system-ui,Arial,sans-serif;max-width:560px;margin:40px auto">
<h1>Песочница amoCRM</h1>
<p>Интеграция <b>{{.ClientID}}</b> просит доступ к аккаунту. После разрешения вы вернётесь на {{.Redirect}}.</p>
<form method="post" action="/oauth">
<input type="hidden" name="client_id" value="{{.ClientID}}">
<input type="hidden" name="state" value="{{.State}}">
<button type="submit">Разрешить</button>
</form>
</body></html>
`))
