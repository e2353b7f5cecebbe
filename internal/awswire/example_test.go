package awswire_test

import (
	"fmt"
	"net/http/httptest"

	"github.com/tenantpulse/tenantpulse/internal/awswire"
)

func ExamplePutRecordsRequest_DecodeJSON() {
	var req awswire.PutRecordsRequest // reuse one per worker
	body := []byte(`{"StreamName":"orders","Records":[{"Data":"aGk=","PartitionKey":"p1"},{"Data":"","PartitionKey":"p2"}]}`)
	if err := req.DecodeJSON(body); err != nil {
		fmt.Println(err)
		return
	}
	for _, r := range req.Records {
		fmt.Printf("%s %q %s\n", req.StreamName, r.Data, r.PartitionKey)
	}
	err := req.DecodeJSON([]byte(`{"Records":[{"Data":42}]}`))
	fmt.Println(err)
	// Output:
	// orders "hi" p1
	// orders "" p2
	// SerializationException: Records[0].Data must be a base64 string, found a number (offset 20)
}

func ExampleWriteError() {
	w := httptest.NewRecorder()
	err := awswire.Errorf(awswire.ResourceNotFound, "Stream %s under account 000000000000 not found.", "orders")
	awswire.WriteError(w, awswire.JSON, "c0ffee00-0000-4000-8000-000000000000", err)
	fmt.Println(w.Code, w.Header().Get("X-Amzn-ErrorType"))
	fmt.Println(w.Body.String())
	// Output:
	// 400 ResourceNotFoundException
	// {"__type":"ResourceNotFoundException","message":"Stream orders under account 000000000000 not found."}
}
