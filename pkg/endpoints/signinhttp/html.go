package signinhttp

import (
	"strings"
)

// The sign-in pages are written by code rather than by html/template: the
// template engine's reflection (reflect.Value.MethodByName) makes the
// linker keep every exported method of every type in the binary, which
// made the authorize and callback bootstraps megabytes larger. The page
// is small, every value sits in element text or a double-quoted attribute,
// and escape gives each the escaping html/template gives those contexts;
// TestPageMatchesTemplate renders the same pages through the template in
// testdata and requires the same bytes.

// escape is html/template's escaping of text and quoted attribute values.
var escape = strings.NewReplacer(
	"\x00", "\uFFFD",
	`"`, "&#34;",
	"&", "&amp;",
	"'", "&#39;",
	"+", "&#43;",
	"<", "&lt;",
	">", "&gt;",
).Replace

// pageWriter appends markup (trusted, written here) and text (escaped).
type pageWriter struct{ strings.Builder }

func (w *pageWriter) raw(s ...string) {
	for _, x := range s {
		w.WriteString(x)
	}
}

func (w *pageWriter) text(s string) { w.WriteString(escape(s)) }

// wrapped appends s (escaped) between open and close (markup).
func (w *pageWriter) wrapped(open, s, close string) {
	w.raw(open)
	w.text(s)
	w.raw(close)
}

// html is the page, in the order the template in testdata gives it.
func (p page) html() string {
	var w pageWriter
	w.raw(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="same-origin">
<title>`)
	w.text(p.Title)
	w.raw("</title>\n<style>", p.Style, "</style>\n</head>\n<body>\n<main>\n<h1>")
	w.text(p.Title)
	w.raw("</h1>")
	switch {
	case p.Login != nil:
		p.login(&w)
	case p.Consent != nil:
		p.consent(&w)
	default:
		if p.Error != "" {
			w.wrapped("\n<p class=\"error\" role=\"alert\">", p.Error, "</p>")
		}
		if p.Message != "" {
			w.wrapped("\n<p>", p.Message, "</p>")
		}
	}
	if p.RequestID != "" {
		w.wrapped("\n<p class=\"request-id\">Request id: <code>", p.RequestID, "</code></p>")
	}
	w.raw("\n</main>\n</body>\n</html>\n")
	return w.String()
}

func (p page) login(w *pageWriter) {
	l := p.Login
	w.wrapped("\n<p class=\"app\">to continue to <strong>", l.AppName, "</strong></p>")
	if p.Error != "" {
		w.wrapped("\n<p class=\"error\" id=\"error\" role=\"alert\">", p.Error, "</p>")
	}
	w.raw("\n<form method=\"post\" action=\"/login\">\n")
	hidden(w, "transaction", l.Transaction)
	hidden(w, "csrf_token", l.CSRFToken)
	w.raw(`<label for="email">Email</label>
<input id="email" name="email" type="email" autocomplete="username" required value="`)
	w.text(l.Email)
	w.raw(`"`)
	if l.Email == "" || l.EmailOnly {
		w.raw(" autofocus")
	}
	if p.Error != "" {
		w.raw(` aria-describedby="error"`)
	}
	w.raw(">")
	if l.EmailOnly {
		w.raw("\n<button type=\"submit\">Continue</button>")
	} else {
		w.raw("\n<label for=\"password\">Password</label>\n" +
			`<input id="password" name="password" type="password" autocomplete="current-password" required`)
		if l.Email != "" {
			w.raw(" autofocus")
		}
		w.raw(">\n<button type=\"submit\">Sign in</button>")
	}
	w.raw("\n</form>")
}

func (p page) consent(w *pageWriter) {
	c := p.Consent
	w.wrapped("\n<p class=\"app\"><strong>", c.AppName, "</strong> asks to act for you")
	if c.UserEmail != "" {
		w.wrapped(" (<strong>", c.UserEmail, "</strong>)")
	}
	w.raw(".</p>")
	if c.AppDescription != "" {
		w.wrapped("\n<p>", c.AppDescription, "</p>")
	}
	w.raw("\n<dl class=\"about\">\n<dt>Created by</dt><dd>")
	if c.CreatedBy != "" {
		w.text(c.CreatedBy)
	} else {
		w.raw("a former member")
	}
	w.raw(", on ")
	w.text(c.CreatedAt)
	w.wrapped("</dd>\n<dt>Organization</dt><dd>", c.Organization, "</dd>\n</dl>")
	if c.Again {
		w.raw("\n<p>You approved part of this before; it now also asks for what is marked <em>new</em>.</p>")
	}
	for _, g := range c.Groups {
		w.wrapped("\n<section>\n<h2>", g.Name, "</h2>")
		if g.Audience != "" {
			w.raw("\n<p>It may call this API as you")
			if g.Name != g.Audience {
				w.wrapped(" (<code>", g.Audience, "</code>)")
			}
			if len(g.Scopes) > 0 {
				w.raw(", with:")
			} else {
				w.raw(", with none of its permissions.")
			}
			w.raw("</p>")
		}
		if len(g.Scopes) > 0 {
			w.raw("\n<ul>")
			for _, s := range g.Scopes {
				w.raw("\n<li>")
				w.text(s.Description)
				w.wrapped(" <code>", s.Name, "</code>")
				if c.Again && s.New {
					w.raw(" <em>new</em>")
				}
				w.raw("</li>")
			}
			w.raw("\n</ul>")
		}
		w.raw("\n</section>")
	}
	w.raw("\n<p>Allow only if you trust this application. You can withdraw your consent at any time in the developer console.</p>\n" +
		"<form method=\"post\" action=\"/consent\">\n")
	hidden(w, "transaction", c.Transaction)
	hidden(w, "csrf_token", c.CSRFToken)
	w.raw("<button type=\"submit\" name=\"decision\" value=\"approve\">Allow</button>\n" +
		"<button type=\"submit\" name=\"decision\" value=\"deny\" class=\"secondary\">Deny</button>\n</form>")
}

func hidden(w *pageWriter, name, value string) {
	w.raw(`<input type="hidden" name="`, name, `" value="`)
	w.text(value)
	w.raw("\">\n")
}
