package signinhttp

import (
	"html/template"
	"strings"
	"testing"

	"orgauth/pkg/signin"
)

// The page written by code is, byte for byte, what html/template makes of
// the page's template (testdata), for every branch and for values an
// attacker chooses: the template's contextual escaping is the proof that
// the code escapes every value it must.
func TestPageMatchesTemplate(t *testing.T) {
	tmpl := template.Must(template.ParseFiles("testdata/page.html.tmpl"))
	hostile := "<script>alert('x')</script>\" onfocus=\"alert(1)\" a+b & \x00 ' > `"
	groups := []signin.ConsentGroup{
		{Name: "Orders API", Audience: "https://orders.example", Scopes: []signin.ConsentItem{{Name: "read:orders", Description: "Read your orders", New: true}, {Name: hostile, Description: hostile}}},
		{Name: "https://same.example", Audience: "https://same.example"},
		{Name: hostile, Audience: hostile, Scopes: []signin.ConsentItem{{Name: "x", Description: "y"}}},
		{Name: "Your profile", Scopes: []signin.ConsentItem{{Name: "email", Description: "Your email address"}}},
		{Name: "Nothing"},
	}
	pages := map[string]page{
		"message":          {Title: "Signed out", Message: "You are signed out."},
		"error":            {Title: hostile, Error: hostile, Message: hostile, RequestID: hostile},
		"empty":            {},
		"login":            {Title: "Sign in", Login: &signin.LoginForm{AppName: hostile, Transaction: "tx", CSRFToken: "csrf"}},
		"login with error": {Title: "Sign in", Error: hostile, Login: &signin.LoginForm{AppName: "SPA", Transaction: hostile, CSRFToken: hostile, Email: hostile}},
		"email only":       {Title: "Sign in", Login: &signin.LoginForm{AppName: "SPA", Email: "a@b.example", EmailOnly: true}},
		"email only empty": {Title: "Sign in", Error: "Enter an email", Login: &signin.LoginForm{EmailOnly: true}},
		"login with email": {Title: "Sign in", Login: &signin.LoginForm{AppName: "SPA", Email: "a@b.example"}},
		"consent": {Title: "Allow access?", Consent: &signin.ConsentForm{AppName: hostile, AppDescription: hostile, CreatedBy: hostile,
			CreatedAt: "1 December 2026", Organization: hostile, UserEmail: hostile, Groups: groups, Again: true, Transaction: hostile, CSRFToken: "c"}},
		"consent, first time": {Title: "Allow access?", Consent: &signin.ConsentForm{AppName: "SPA", CreatedAt: "today", Organization: "Acme", Groups: groups}},
		"consent, bare":       {Title: "Allow access?", Consent: &signin.ConsentForm{}, RequestID: "r1"},
	}
	for name, p := range pages {
		p.Style = style
		var want strings.Builder
		data := struct {
			page
			Style template.CSS
		}{p, template.CSS(p.Style)}
		if err := tmpl.Execute(&want, data); err != nil {
			t.Fatal(err)
		}
		if got := p.html(); got != want.String() {
			t.Errorf("%s: the page differs from the template's\n got: %q\nwant: %q", name, got, want.String())
		}
	}
	if strings.Contains(pages["error"].html(), "<script>") {
		t.Fatal("unescaped")
	}
}
