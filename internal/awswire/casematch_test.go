package awswire

import "testing"

func TestMemberNamesAreCaseSensitive(t *testing.T) {
	type inner struct {
		StreamMode string `json:"StreamMode"`
	}
	type in struct {
		StreamName string            `json:"StreamName"`
		Details    *inner            `json:"StreamModeDetails"`
		Tags       map[string]string `json:"Tags"`
		List       []inner           `json:"List"`
	}
	f := func(body string, want in) {
		t.Helper()
		var got in
		if err := JSON.Unmarshal([]byte(body), &got); err != nil {
			t.Fatalf("%s: %v", body, err)
		}
		if got.StreamName != want.StreamName || (got.Details == nil) != (want.Details == nil) ||
			got.Details != nil && got.Details.StreamMode != want.Details.StreamMode ||
			len(got.Tags) != len(want.Tags) || len(got.List) != len(want.List) ||
			len(got.List) > 0 && got.List[0] != want.List[0] {
			t.Fatalf("%s: got %+v, want %+v", body, got, want)
		}
	}
	f(`{"StreamName":"a"}`, in{StreamName: "a"})
	f(`{"streamName":"a"}`, in{})
	f(`{"STREAMNAME":"a","StreamName":"b"}`, in{StreamName: "b"})
	f(`{"\u0053treamName":"a"}`, in{StreamName: "a"})
	f(`{"\u0073treamName":"a"}`, in{})
	f(`{"StreamModeDetails":{"streammode":"ON_DEMAND"}}`, in{Details: &inner{}})
	f(`{"StreamModeDetails":{"StreamMode":"ON_DEMAND"}}`, in{Details: &inner{StreamMode: "ON_DEMAND"}})
	f(`{"Tags":{"streamName":"x"},"List":[{"streammode":"x"}]}`, in{Tags: map[string]string{"streamName": "x"}, List: []inner{{}}})
	f(`{"Other":{"streamName":[1,{"a":2}]},"StreamName":"c"}`, in{StreamName: "c"})
}
