package archive

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestStatusAPI(t *testing.T) {
	s := &Service{shards: []*shardArchiver{{stream: "jobs", shard: "shardId-000000000001"}}}
	pos := "49000000000000000000000000000000000000000000000000000042"
	s.shards[0].readPos.Store(&pos)
	s.stats.Records.Add(10)
	s.stats.Events.Add(9)
	s.stats.Errors.Add(1)
	s.stats.Files.Add(3)
	mux := http.NewServeMux()
	s.Register(mux)
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/v1/archive", nil))
	var st Status
	if err := json.Unmarshal(rec.Body.Bytes(), &st); err != nil || rec.Code != 200 {
		t.Fatalf("%d %s: %v", rec.Code, rec.Body, err)
	}
	if st.Records != 10 || st.Events != 9 || st.Errors != 1 || st.Files != 3 || len(st.Shards) != 1 ||
		st.Shards[0].Read != pos || st.Shards[0].Stream != "jobs" {
		t.Errorf("status %+v", st)
	}
	if want := `"streams":[]`; !strings.Contains(rec.Body.String(), want) {
		t.Errorf("%s\nwant it to hold %s", rec.Body, want)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(s.Collectors()...)
	want := "# HELP tenantpulse_archive_events_total Events stored in tenant buckets.\n# TYPE tenantpulse_archive_events_total counter\ntenantpulse_archive_events_total 9\n"
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "tenantpulse_archive_events_total"); err != nil {
		t.Error(err)
	}
}
