package wiring

import (
	"net/http"
	"os"

	"orgauth/pkg/platform/config"
	"orgauth/pkg/platform/httpx"
	"orgauth/pkg/platform/lambdahttp"
)

// Constructor builds one function's handler from the stage's shared parts.
type Constructor func(Stage) (http.Handler, error)

// LambdaMain is the whole main of a function: read the environment, build
// the stage on AWS, wire once with the function's constructor, then serve
// until the runtime stops the process. A bad configuration or a missing
// dependency is logged as one JSON line and exits non-zero, which Lambda
// reports as an init error.
func LambdaMain(build Constructor) {
	log := httpx.NewLogger(nil)
	st, err := FromEnv(os.Getenv)
	if err != nil {
		log.Error("startup failed", "error", err.Error())
		os.Exit(1)
	}
	h, err := build(st)
	if err != nil {
		log.Error("startup failed", "error", err.Error())
		os.Exit(1)
	}
	edge, err := httpx.NewEdge(st.Cfg.OriginVerifySHA256)
	if err != nil { // config.FromEnv checked it
		log.Error("startup failed", "error", "ORIGIN_VERIFY_SHA256: "+err.Error())
		os.Exit(1)
	}
	lambdahttp.Start(h, st.Log, st.Cfg.Issuer, edge)
}

// FromEnv builds the stage of a Lambda function: the configuration from
// getenv, DynamoDB and KMS, EMF metrics on stdout.
func FromEnv(getenv func(string) string) (Stage, error) {
	cfg, err := config.FromEnv(getenv)
	if err != nil {
		return Stage{}, err
	}
	return NewAWS(LambdaAWS(cfg), cfg, httpx.NewLogger(cfg.LogLevel), os.Stdout)
}

// Build runs the function constructors of a stage, for the local server
// that mounts them all: logical id -> handler.
func Build(st Stage, constructors map[string]Constructor) (map[string]http.Handler, error) {
	out := make(map[string]http.Handler, len(constructors))
	for id, build := range constructors {
		h, err := build(st)
		if err != nil {
			return nil, err
		}
		out[id] = h
	}
	return out, nil
}
