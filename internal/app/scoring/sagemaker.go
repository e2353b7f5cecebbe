package scoring

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/sagemakerruntime"
	"github.com/aws/aws-sdk-go-v2/service/sagemakerruntime/types"
)

// SageMakerOptions configure the SageMaker predictor.
type SageMakerOptions struct {
	Region      string // "": the AWS configuration's (AWS_REGION, ~/.aws/config)
	EndpointURL string // "": AWS's; else a SageMaker runtime-compatible server, such as tenantpulse's own
	// Credentials, when not nil, replace the standard credential chain.
	Credentials aws.CredentialsProvider
}

// SageMaker is the Predictor that calls a SageMaker endpoint's
// InvokeEndpoint with aws-sdk-go-v2 (text/csv in, application/json out).
type SageMaker struct {
	client *sagemakerruntime.Client
}

// NewSageMaker returns the SageMaker predictor, configured by the SDK's
// standard chain (config.LoadDefaultConfig) and o.
func NewSageMaker(ctx context.Context, o SageMakerOptions) (*SageMaker, error) {
	var opts []func(*config.LoadOptions) error
	if o.Region != "" {
		opts = append(opts, config.WithRegion(o.Region))
	}
	if o.Credentials != nil {
		opts = append(opts, config.WithCredentialsProvider(o.Credentials))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("cannot load the AWS configuration for SageMaker: %w", err)
	}
	if cfg.Region == "" {
		return nil, errors.New("no region for SageMaker: set --sagemaker-region or AWS_REGION")
	}
	c := sagemakerruntime.NewFromConfig(cfg, func(so *sagemakerruntime.Options) {
		if o.EndpointURL != "" {
			so.BaseEndpoint = aws.String(o.EndpointURL)
		}
	})
	return &SageMaker{client: c}, nil
}

// Predict implements Predictor: one InvokeEndpoint call for all the rows.
// A ValidationError saying the endpoint is not found is ErrNoEndpoint; a
// ModelError with a 4xx OriginalStatusCode is an *InputError; any other
// error is returned wrapped, the SDK's error type intact.
func (s *SageMaker) Predict(ctx context.Context, endpoint string, csvRows []byte) ([]Prediction, error) {
	out, err := s.client.InvokeEndpoint(ctx, &sagemakerruntime.InvokeEndpointInput{
		EndpointName: aws.String(endpoint),
		Body:         csvRows,
		ContentType:  aws.String("text/csv"),
		Accept:       aws.String("application/json"),
	})
	if err != nil {
		var ve *types.ValidationError
		if errors.As(err, &ve) && strings.Contains(ve.ErrorMessage(), "not found") {
			return nil, fmt.Errorf("%w: SageMaker says: %s", ErrNoEndpoint, ve.ErrorMessage())
		}
		var me *types.ModelError
		if errors.As(err, &me) && me.OriginalStatusCode != nil && *me.OriginalStatusCode >= 400 && *me.OriginalStatusCode < 500 {
			msg := me.ErrorMessage()
			if me.OriginalMessage != nil {
				msg = *me.OriginalMessage
			}
			return nil, &InputError{Message: msg}
		}
		return nil, fmt.Errorf("SageMaker endpoint %s: %w", endpoint, err)
	}
	var resp struct {
		Predictions []struct {
			Score          *float64 `json:"score"`
			PredictedLabel float64  `json:"predicted_label"`
		} `json:"predictions"`
	}
	if err := json.Unmarshal(out.Body, &resp); err != nil {
		return nil, fmt.Errorf("SageMaker endpoint %s answered %s that is not linear learner's JSON: %w", endpoint, aws.ToString(out.ContentType), err)
	}
	preds := make([]Prediction, len(resp.Predictions))
	for i, p := range resp.Predictions {
		if p.Score == nil {
			return nil, fmt.Errorf("SageMaker endpoint %s: prediction %d has no score; is it a binary classifier?", endpoint, i)
		}
		preds[i] = Prediction{Score: *p.Score, PredictedLabel: int(p.PredictedLabel)}
	}
	return preds, nil
}
