package scoring

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/sagemakerruntime"
	"github.com/aws/aws-sdk-go-v2/service/sagemakerruntime/types"

	"github.com/tenantpulse/tenantpulse/internal/bodylimit"
	"github.com/tenantpulse/tenantpulse/internal/httpfast"
)

// TestThrottledBodies: with the in-flight body budget spent, InvokeEndpoint
// answers ServiceUnavailable (503, the retriable error the API models),
// which the SDK decodes as types.ServiceUnavailable and retries, and the gateway 429 TooManyRequests with Retry-After, both
// without reading the body.
func TestThrottledBodies(t *testing.T) {
	linear, _, _ := modelFiles(t)
	s, err := New(context.Background(), Options{Models: map[string]string{"churn": writeModel(t, linear)}})
	if err != nil {
		t.Fatal(err)
	}
	budget := bodylimit.NewBudget(bodylimit.Options{Max: 16 << 20, ReturnAbove: -1})
	if !budget.Acquire(16 << 20) { // another request holds it all
		t.Fatal("cannot fill the budget")
	}
	mux := http.NewServeMux()
	s.Register(mux)
	h := bodylimit.Handler(mux, bodylimit.HandlerOptions{Budget: budget, Timeout: time.Minute})
	fast := &httpfast.Server{HTTP: &http.Server{Handler: h}, Routes: []httpfast.Route{s.InvokeRoute()}, Budget: budget}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go fast.Serve(ln)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		fast.Shutdown(ctx)
	})
	url := "http://" + ln.Addr().String()

	c := sagemakerruntime.New(sagemakerruntime.Options{
		Region: "us-west-2", BaseEndpoint: aws.String(url), Credentials: aws.AnonymousCredentials{},
		RetryMaxAttempts: 1,
	})
	_, err = c.InvokeEndpoint(context.Background(), &sagemakerruntime.InvokeEndpointInput{
		EndpointName: aws.String("churn"), ContentType: aws.String("text/csv"), Body: []byte("1,2,3\n"),
	})
	var su *types.ServiceUnavailable
	if !errors.As(err, &su) {
		t.Fatalf("InvokeEndpoint past the budget: %v, want %s", err, ErrServiceUnavailable)
	}
	if (retry.RetryableHTTPStatusCode{Codes: retry.DefaultRetryableHTTPStatusCodes}).IsErrorRetryable(err) != aws.TrueTernary {
		t.Errorf("the SDK does not retry %v", err)
	}

	resp, b := call(t, "POST", url+"/v1/assess-churn", nil, []byte(referencePayload))
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") != "1" ||
		!strings.Contains(string(b), `"error":"TooManyRequests"`) {
		t.Errorf("POST /v1/assess-churn past the budget: %d %v %s", resp.StatusCode, resp.Header, b)
	}
	budget.Release(16 << 20)
}
