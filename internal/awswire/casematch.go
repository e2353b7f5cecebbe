package awswire

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"sync"
)

// AWS matches member names case-sensitively and ignores unknown members;
// encoding/json also accepts a member whose name differs only in case.
// ignoreCaseMismatches finds such members in body (for the struct type of
// v) and returns a copy in which their names no longer match any field, so
// they are ignored as AWS ignores them. It returns body itself when there
// are none, which is the common case.
func ignoreCaseMismatches(body []byte, v any) []byte {
	t := reflect.TypeOf(v)
	var offs []int
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if walkJSON(dec, body, t, &offs) != nil || len(offs) == 0 {
		return body
	}
	out := bytes.Clone(body)
	for _, o := range offs {
		out[o] = '~' // the name's first byte: "streamName" -> "~treamName"
	}
	return out
}

// fieldNames maps a struct type's exact member names and lower-cased names.
type fieldNames struct {
	exact map[string]reflect.Type
	lower map[string]bool
}

var fieldCache sync.Map // reflect.Type -> *fieldNames

func namesOf(t reflect.Type) *fieldNames {
	if f, ok := fieldCache.Load(t); ok {
		return f.(*fieldNames)
	}
	f := &fieldNames{exact: map[string]reflect.Type{}, lower: map[string]bool{}}
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		if !sf.IsExported() {
			continue
		}
		name := sf.Name
		if tag, ok := sf.Tag.Lookup("json"); ok {
			if tag == "-" {
				continue
			}
			if n, _, _ := strings.Cut(tag, ","); n != "" {
				name = n
			}
		}
		f.exact[name] = sf.Type
		f.lower[strings.ToLower(name)] = true
	}
	fieldCache.Store(t, f)
	return f
}

// walkJSON reads one value from dec, recording in offs the body offsets of
// member names that match a field of t only when case is ignored. t may
// be nil (a value that maps to no field).
func walkJSON(dec *json.Decoder, body []byte, t reflect.Type, offs *[]int) error {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	d, ok := tok.(json.Delim)
	if !ok {
		return nil
	}
	switch d {
	case '{':
		var names *fieldNames
		if t != nil && t.Kind() == reflect.Struct && t != reflect.TypeFor[Timestamp]() {
			names = namesOf(t)
		}
		for dec.More() {
			start := int(dec.InputOffset())
			kt, err := dec.Token()
			if err != nil {
				return err
			}
			key, _ := kt.(string)
			var ft reflect.Type
			switch {
			case names != nil:
				if et, ok := names.exact[key]; ok {
					ft = et
				} else if names.lower[strings.ToLower(key)] {
					if q := bytes.IndexByte(body[start:], '"'); q >= 0 && start+q+1 < len(body) {
						*offs = append(*offs, start+q+1)
					}
				}
			case t != nil && t.Kind() == reflect.Map:
				ft = t.Elem()
			}
			if err := walkJSON(dec, body, ft, offs); err != nil {
				return err
			}
		}
	case '[':
		var et reflect.Type
		if t != nil && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array) {
			et = t.Elem()
		}
		for dec.More() {
			if err := walkJSON(dec, body, et, offs); err != nil {
				return err
			}
		}
	}
	_, err = dec.Token() // the closing delimiter
	return err
}
