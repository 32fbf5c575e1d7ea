package emulator

import (
	"context"
	"os/exec"
	"path/filepath"
)

// StartDynalite runs dynalite (npm, pinned in infra/package.json, installed
// into infra/node_modules) on a free port of 127.0.0.1. With dataDir it keeps
// its tables in a LevelDB directory there (--path) and they survive a
// restart; with "" it keeps them in memory.
//
// Tables stay CREATING, UPDATING or DELETING for 50 ms instead of dynalite's
// default 500 ms: long enough that callers must wait for ACTIVE, short
// enough for a test suite that creates a table per test. dynalite lacks
// TransactWriteItems and UpdateTimeToLive, and never expires items.
func StartDynalite(ctx context.Context, dataDir string) (*Process, error) {
	return StartDynaliteOn(ctx, dataDir, 0)
}

// StartDynaliteOn is StartDynalite on a given port of 127.0.0.1 (0: a free
// one).
func StartDynaliteOn(ctx context.Context, dataDir string, port int) (*Process, error) {
	path, err := findExecutable("dynalite", "infra/node_modules/.bin/dynalite")
	if err != nil {
		return nil, err
	}
	args := []string{
		"--port", "{{PORT}}", "--host", "127.0.0.1",
		"--createTableMs", "50", "--updateTableMs", "50", "--deleteTableMs", "50",
	}
	if dataDir != "" {
		dir, err := filepath.Abs(dataDir)
		if err != nil {
			return nil, err
		}
		args = append(args, "--path", dir)
	}
	return Start(ctx, StartOptions{Name: "dynalite", Path: path, Args: args, Port: port, Ready: HTTPReady})
}

// StartMoto runs moto_server (pip, found on PATH) on a free port of
// 127.0.0.1. It serves every mocked AWS service on that port, DynamoDB
// included; state lives in memory only, so dataDir is ignored.
//
// moto_server serves each request on its own thread, and its DynamoDB
// backend takes no lock: two concurrent conditional writes or ADDs to one
// item can both read the old value, so it loses updates that DynamoDB
// never loses. When the Python that has moto is python3 on PATH, the same
// server is started with one thread, which serialises requests as
// DynamoDB serialises writes to an item; otherwise moto_server is run as
// is.
func StartMoto(ctx context.Context, dataDir string) (*Process, error) {
	if py, err := findExecutable("python3"); err == nil && exec.CommandContext(ctx, py, "-c", "import moto.server").Run() == nil {
		return Start(ctx, StartOptions{
			Name:  "moto_server",
			Path:  py,
			Args:  []string{"-c", motoSingleThreaded, "-H", "127.0.0.1", "-p", "{{PORT}}"},
			Ready: HTTPReady,
		})
	}
	path, err := findExecutable("moto_server")
	if err != nil {
		return nil, err
	}
	return Start(ctx, StartOptions{
		Name:  "moto_server",
		Path:  path,
		Args:  []string{"-H", "127.0.0.1", "-p", "{{PORT}}"},
		Ready: HTTPReady,
	})
}

// motoSingleThreaded is moto_server's main with werkzeug's threading off.
const motoSingleThreaded = `import sys, moto.server as s
run = s.run_simple
s.run_simple = lambda *a, **k: run(*a, **dict(k, threaded=False))
s.main(sys.argv[1:])`
