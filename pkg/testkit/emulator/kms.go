package emulator

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
)

// StartKMS runs local-kms through the repository's wrapper .bin/kms-local
// (built from infra/tools, see cmd/kms-local there), listening on a free port
// of 127.0.0.1 and storing its keys in dataDir. It is ready once it answers
// HTTP.
//
// dataDir must not be empty: keys persist there across restarts, and the
// caller owns the directory (tests pass t.TempDir(), as StartForTest does).
// Only one process may hold a data directory at a time.
func StartKMS(ctx context.Context, dataDir string) (*Process, error) {
	return StartKMSOn(ctx, dataDir, 0)
}

// StartKMSOn is StartKMS on a given port of 127.0.0.1 (0: a free one).
func StartKMSOn(ctx context.Context, dataDir string, port int) (*Process, error) {
	if dataDir == "" {
		return nil, errors.New("kms-local: dataDir is required")
	}
	dir, err := filepath.Abs(dataDir)
	if err != nil {
		return nil, err
	}
	path, err := findExecutable("kms-local", ".bin/kms-local")
	if err != nil {
		return nil, err
	}
	return Start(ctx, StartOptions{
		Name:  "kms-local",
		Path:  path,
		Args:  []string{"-port", "{{PORT}}", "-data", dir},
		Port:  port,
		Ready: HTTPReady,
	})
}

// StartRIE runs the AWS Lambda Runtime Interface Emulator (.bin/aws-lambda-rie,
// built from infra/tools) in front of the Lambda bootstrap executable at
// bootstrapPath. The emulator's invoke API listens on Process.Endpoint
// (POST /2015-03-31/functions/function/invocations); the Lambda Runtime API
// that the bootstrap talks to gets another free port. Both bind 127.0.0.1.
// env is added to the environment of the emulator, which passes it on to the
// bootstrap. The bootstrap runs in its own directory, as in /var/task.
//
// The emulator handles one invocation at a time: concurrent invokes crash it.
func StartRIE(ctx context.Context, bootstrapPath string, env []string) (*Process, error) {
	if bootstrapPath == "" {
		return nil, errors.New("aws-lambda-rie: bootstrapPath is required")
	}
	bootstrap, err := filepath.Abs(bootstrapPath)
	if err != nil {
		return nil, err
	}
	path, err := findExecutable("aws-lambda-rie", ".bin/aws-lambda-rie")
	if err != nil {
		return nil, err
	}
	apiPort, err := FreePort()
	if err != nil {
		return nil, err
	}
	return Start(ctx, StartOptions{
		Name: "aws-lambda-rie",
		Path: path,
		Args: []string{
			"--runtime-interface-emulator-address", "127.0.0.1:{{PORT}}",
			"--runtime-api-address", fmt.Sprintf("127.0.0.1:%d", apiPort),
			bootstrap,
		},
		Env:   env,
		Dir:   filepath.Dir(bootstrap),
		Ready: TCPReady,
	})
}
