package sim

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
)

// TagKey is the companies stream's tag that holds a seed's settings and
// progress.
func TagKey(seed uint64) string { return "tenantpulse.simulator." + strconv.FormatUint(seed, 10) }

// Progress is a run's settings and progress as stored in its tag:
// "v1 tenants=300 start=<unixms> live=<unixms> rate=200 acked=<ordinal> at=<unixms>[ clean=1]".
// acked is the highest ordinal up to which every event has been
// acknowledged (-1: none); at is the wall-clock time it was written.
// clean=1 says the run that wrote it stopped with every event it sent
// acknowledged, so no event after acked is stored and a resume need not
// read the streams; a resume clears it before sending anything.
type Progress struct {
	Tenants int
	Start   int64 // unix ms
	Live    int64 // unix ms
	Rate    float64
	Acked   int64
	At      int64 // unix ms
	Clean   bool
}

func (p Progress) String() string {
	s := fmt.Sprintf("v1 tenants=%d start=%d live=%d rate=%s acked=%d at=%d",
		p.Tenants, p.Start, p.Live, strconv.FormatFloat(p.Rate, 'f', -1, 64), p.Acked, p.At)
	if p.Clean {
		s += " clean=1"
	}
	return s
}

// ParseProgress parses a tag value written by Progress.String.
func ParseProgress(s string) (Progress, error) {
	f := strings.Fields(s)
	if len(f) == 0 || f[0] != "v1" {
		return Progress{}, fmt.Errorf("simulator progress %q: not version v1", s)
	}
	var p Progress
	seen := map[string]bool{}
	for _, kv := range f[1:] {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return Progress{}, fmt.Errorf("simulator progress %q: %q is not key=value", s, kv)
		}
		var err error
		switch k {
		case "tenants":
			p.Tenants, err = strconv.Atoi(v)
		case "start":
			p.Start, err = strconv.ParseInt(v, 10, 64)
		case "live":
			p.Live, err = strconv.ParseInt(v, 10, 64)
		case "rate":
			p.Rate, err = strconv.ParseFloat(v, 64)
		case "acked":
			p.Acked, err = strconv.ParseInt(v, 10, 64)
		case "at":
			p.At, err = strconv.ParseInt(v, 10, 64)
		case "clean":
			if v != "0" && v != "1" {
				err = errors.New("not 0 or 1")
			}
			p.Clean = v == "1"
		default:
			continue // written by a later version: ignore
		}
		if err != nil {
			return Progress{}, fmt.Errorf("simulator progress %q: %s: %w", s, k, err)
		}
		seen[k] = true
	}
	for _, k := range []string{"tenants", "start", "live", "rate", "acked", "at"} {
		if !seen[k] {
			return Progress{}, fmt.Errorf("simulator progress %q: %s is missing", s, k)
		}
	}
	switch {
	case p.Tenants < 1:
		return Progress{}, fmt.Errorf("simulator progress %q: tenants must be at least 1", s)
	case math.IsNaN(p.Rate) || math.IsInf(p.Rate, 0) || p.Rate < 0:
		return Progress{}, fmt.Errorf("simulator progress %q: rate must be a finite number >= 0", s)
	case p.Acked < -1:
		return Progress{}, fmt.Errorf("simulator progress %q: acked must be -1 or more", s)
	case p.Live != 0 && p.Live < p.Start:
		return Progress{}, fmt.Errorf("simulator progress %q: live is before start", s)
	}
	return p, nil
}

// readProgress returns the seed's stored progress, if any.
func readProgress(ctx context.Context, kc *kinesis.Client, seed uint64) (Progress, bool, error) {
	key := TagKey(seed)
	in := &kinesis.ListTagsForStreamInput{StreamName: aws.String(StreamCompanies)}
	for {
		out, err := kc.ListTagsForStream(ctx, in)
		if err != nil {
			return Progress{}, false, fmt.Errorf("ListTagsForStream %s: %w", StreamCompanies, err)
		}
		for _, t := range out.Tags {
			if aws.ToString(t.Key) == key {
				p, err := ParseProgress(aws.ToString(t.Value))
				return p, err == nil, err
			}
		}
		if !aws.ToBool(out.HasMoreTags) || len(out.Tags) == 0 {
			return Progress{}, false, nil
		}
		in.ExclusiveStartTagKey = out.Tags[len(out.Tags)-1].Key
	}
}

// writeProgress stores the seed's progress.
func writeProgress(ctx context.Context, kc *kinesis.Client, seed uint64, p Progress) error {
	_, err := kc.AddTagsToStream(ctx, &kinesis.AddTagsToStreamInput{
		StreamName: aws.String(StreamCompanies),
		Tags:       map[string]string{TagKey(seed): p.String()},
	})
	if err != nil {
		return fmt.Errorf("AddTagsToStream %s: %w", StreamCompanies, err)
	}
	return nil
}

// ParseOrdinal returns the ordinal of a simulated event whose id starts
// with prefix ("<seed>-"); ok is false for any other record.
func ParseOrdinal(data []byte, prefix string) (int64, bool) {
	var ev struct {
		ID     string `json:"id"`
		Source string `json:"source"`
	}
	if json.Unmarshal(data, &ev) != nil || ev.Source != Source || !strings.HasPrefix(ev.ID, prefix) {
		return 0, false
	}
	o, err := strconv.ParseInt(ev.ID[len(prefix):], 10, 64)
	return o, err == nil && o >= 0
}
