// Package dedupe owns the duplicate-event window: a bounded memory of the
// identities (id + source) of recently seen events, keyed by arrival time.
// The event API uses it to store a repeated event once, and the analytics
// processor to count one once; both share its semantics: an event is a
// duplicate when the same identity was recorded less than Window ago.
//
// Memory is fixed at construction (Options.MaxBytes): when the window is
// full, the oldest identities are forgotten early and counted, so the
// effective window is reported rather than silently shortened. It holds no
// locks of its own and does not touch streams or HTTP.
package dedupe
