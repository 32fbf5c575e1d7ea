package required

import (
	"fmt"
	"reflect"
)

// Dep names one dependency.
type Dep struct {
	Name  string
	Value any
}

// Check returns an error naming the first dependency that is nil: a nil
// interface, or an interface holding a nil pointer, map, slice, channel or
// function.
func Check(component string, deps ...Dep) error {
	for _, d := range deps {
		if isNil(d.Value) {
			return fmt.Errorf("%s: %s is required", component, d.Name)
		}
	}
	return nil
}

func isNil(v any) bool {
	if v == nil {
		return true
	}
	switch rv := reflect.ValueOf(v); rv.Kind() {
	case reflect.Pointer, reflect.Map, reflect.Slice, reflect.Chan, reflect.Func, reflect.Interface:
		return rv.IsNil()
	}
	return false
}
