package wiring

import (
	"net/http"
	"os"

	"orgauth/pkg/platform/config"
	"orgauth/pkg/platform/httpx"
	"orgauth/pkg/platform/lambdahttp"
)

// LambdaMain is the whole main of a function: read the environment, wire
// once, then serve handler(app) until the runtime stops the process. A bad
// configuration is logged as one JSON line and exits non-zero, which Lambda
// reports as an init error.
func LambdaMain(handler func(*App) http.Handler) {
	log := httpx.NewLogger(nil)
	cfg, err := config.FromEnv(os.Getenv)
	if err != nil {
		log.Error("bad configuration", "error", err.Error())
		os.Exit(1)
	}
	app, err := New(LambdaAWS(cfg), cfg, httpx.NewLogger(cfg.LogLevel))
	if err != nil {
		log.Error("startup failed", "error", err.Error())
		os.Exit(1)
	}
	lambdahttp.Start(handler(app), app.Log)
}
