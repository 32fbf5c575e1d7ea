package emulator

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Process is a running emulator.
type Process struct {
	Name     string
	Endpoint string // http://127.0.0.1:PORT
	Port     int

	cmd      *exec.Cmd
	done     chan struct{}
	waitErr  error
	stopOnce sync.Once
	output   *tailBuffer
}

// FreePort asks the kernel for a free TCP port on 127.0.0.1.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// StartOptions describe how to start one emulator.
type StartOptions struct {
	Name string
	Path string   // executable
	Args []string // arguments; use {{PORT}} where the port goes
	Env  []string // extra environment
	Dir  string
	Port int // 0: pick a free one
	// Ready reports nil once the emulator answers at endpoint.
	Ready func(ctx context.Context, endpoint string) error
	// ReadyTimeout bounds the wait for Ready (default 30 s).
	ReadyTimeout time.Duration
}

// Start launches the emulator in its own process group and waits until it is
// ready. On any failure the process is stopped before Start returns.
func Start(ctx context.Context, o StartOptions) (*Process, error) {
	port := o.Port
	if port == 0 {
		var err error
		if port, err = FreePort(); err != nil {
			return nil, err
		}
	}
	args := make([]string, len(o.Args))
	for i, a := range o.Args {
		args[i] = strings.ReplaceAll(a, "{{PORT}}", fmt.Sprint(port))
	}
	cmd := exec.Command(o.Path, args...)
	cmd.Dir = o.Dir
	cmd.Env = append(os.Environ(), o.Env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	out := &tailBuffer{max: 8192}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", o.Name, err)
	}
	p := &Process{Name: o.Name, Port: port, Endpoint: fmt.Sprintf("http://127.0.0.1:%d", port), cmd: cmd, done: make(chan struct{}), output: out}
	go func() { p.waitErr = cmd.Wait(); close(p.done) }()

	timeout := o.ReadyTimeout
	if timeout == 0 {
		timeout = 30 * time.Second
	}
	ready := o.Ready
	if ready == nil {
		ready = TCPReady
	}
	rctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for {
		if err := ready(rctx, p.Endpoint); err == nil {
			return p, nil
		}
		select {
		case <-p.done:
			return nil, fmt.Errorf("%s exited before it was ready: %v\n%s", o.Name, p.waitErr, out.String())
		case <-rctx.Done():
			p.Stop()
			return nil, fmt.Errorf("%s not ready after %s\n%s", o.Name, timeout, out.String())
		case <-time.After(25 * time.Millisecond):
		}
	}
}

// Output is the tail of what the process printed.
func (p *Process) Output() string { return p.output.String() }

// Stop ends the process group: SIGTERM, then SIGKILL after 5 s.
func (p *Process) Stop() error {
	p.stopOnce.Do(func() {
		pgid := p.cmd.Process.Pid
		_ = syscall.Kill(-pgid, syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(5 * time.Second):
			_ = syscall.Kill(-pgid, syscall.SIGKILL)
			<-p.done
		}
	})
	return nil
}

// Signal sends sig to the process group: SIGSTOP freezes an emulator and
// SIGCONT resumes it (make soak).
func (p *Process) Signal(sig syscall.Signal) error {
	return syscall.Kill(-p.cmd.Process.Pid, sig)
}

// Done is closed when the process has exited.
func (p *Process) Done() <-chan struct{} { return p.done }

// TCPReady succeeds once something accepts connections at endpoint.
func TCPReady(ctx context.Context, endpoint string) error {
	host := strings.TrimPrefix(endpoint, "http://")
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", host)
	if err != nil {
		return err
	}
	return c.Close()
}

// HTTPReady succeeds once endpoint answers any HTTP response.
func HTTPReady(ctx context.Context, endpoint string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, endpoint, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	return resp.Body.Close()
}

// RepoRoot walks up from the working directory to the directory whose go.mod
// declares module orgauth.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && strings.HasPrefix(string(b), "module orgauth\n") {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("not inside the orgauth repository")
		}
		dir = parent
	}
}

// ErrMissing is returned when an emulator's executable is not installed.
var ErrMissing = errors.New("emulator not installed (run make test-deps)")

// findExecutable looks for name under the repository root's relative paths,
// then on PATH.
func findExecutable(name string, relPaths ...string) (string, error) {
	if root, err := RepoRoot(); err == nil {
		for _, rel := range relPaths {
			p := filepath.Join(root, rel)
			if st, err := os.Stat(p); err == nil && !st.IsDir() {
				return p, nil
			}
		}
	}
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	return "", fmt.Errorf("%s: %w", name, ErrMissing)
}

type tailBuffer struct {
	mu  sync.Mutex
	buf []byte
	max int
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if len(t.buf) > t.max {
		t.buf = t.buf[len(t.buf)-t.max:]
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.buf)
}
