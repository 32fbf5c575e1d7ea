package required_test

import (
	"strings"
	"testing"

	"orgauth/pkg/platform/required"
)

type thing struct{}

func TestCheck(t *testing.T) {
	var nilPtr *thing
	var nilFunc func()
	ok := required.Check("x", required.Dep{Name: "A", Value: &thing{}}, required.Dep{Name: "B", Value: func() {}}, required.Dep{Name: "C", Value: 3})
	if ok != nil {
		t.Fatalf("all present: %v", ok)
	}
	for name, v := range map[string]any{"untyped nil": nil, "nil pointer": nilPtr, "nil func": nilFunc} {
		err := required.Check("token endpoint", required.Dep{Name: "A", Value: &thing{}}, required.Dep{Name: "Missing", Value: v})
		if err == nil || !strings.Contains(err.Error(), "token endpoint: Missing is required") {
			t.Errorf("%s: got %v", name, err)
		}
	}
}
