package awswire

import "unsafe"

// unsafeStringData reports where a string's bytes live, to check interning.
func unsafeStringData(s string) *byte { return unsafe.StringData(s) }
