// Package web holds the hosting surface: the handlers behind migrate.cgi,
// oauth_callback.cgi, cron.cgi and api_status_mapping.cgi, and Serve, which
// runs one handler the way the program was started (FastCGI, CGI or a shell).
//
// Handlers depend on small interfaces declared here, never on the store or
// the API clients directly; the mains wire those in (see pkg/app). Every
// answer is plain text (JSON for the mapping API), carries no stack trace
// and never echoes a token.
package web
