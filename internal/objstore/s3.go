package objstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
)

// S3Options configure NewS3. Credentials come from the SDK's standard
// chain (environment, shared config and credentials files, SSO, web
// identity, container and instance roles).
type S3Options struct {
	// Region is the buckets' region; empty takes the standard chain's
	// (AWS_REGION, the shared config's profile).
	Region string
	// Endpoint replaces the AWS endpoint, for an S3-compatible server
	// (MinIO, Ceph, ...): a URL such as "http://127.0.0.1:9000".
	Endpoint string
	// PathStyle addresses buckets as <endpoint>/<bucket> instead of
	// <bucket>.<endpoint>; most S3-compatible servers need it.
	PathStyle bool
}

type s3Store struct {
	c *s3.Client
}

// NewS3 returns a Store over S3 (or an S3-compatible server), configured by
// the SDK's standard chain (config.LoadDefaultConfig) and o.
func NewS3(ctx context.Context, o S3Options) (Store, error) {
	var opts []func(*config.LoadOptions) error
	if o.Region != "" {
		opts = append(opts, config.WithRegion(o.Region))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("cannot load the AWS configuration for S3: %w", err)
	}
	if cfg.Region == "" {
		return nil, errors.New("objstore: no region for S3: set the archive's S3 region or AWS_REGION")
	}
	c := s3.NewFromConfig(cfg, func(so *s3.Options) {
		if o.Endpoint != "" {
			so.BaseEndpoint = aws.String(o.Endpoint)
		}
		so.UsePathStyle = o.PathStyle
	})
	return NewS3FromClient(c), nil
}

// NewS3FromClient returns a Store over an S3 client the caller configured.
func NewS3FromClient(c *s3.Client) Store {
	return &s3Store{c: c}
}

// apiCode returns the S3 error code of err, or "".
func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

func isNoSuchBucket(err error) bool {
	var nb *types.NoSuchBucket
	return errors.As(err, &nb) || apiCode(err) == "NoSuchBucket"
}

func (s *s3Store) CreateBucket(ctx context.Context, bucket string) error {
	if err := ValidateBucketName(bucket); err != nil {
		return err
	}
	in := &s3.CreateBucketInput{Bucket: aws.String(bucket)}
	if r := s.c.Options().Region; r != "" && r != "us-east-1" {
		in.CreateBucketConfiguration = &types.CreateBucketConfiguration{
			LocationConstraint: types.BucketLocationConstraint(r),
		}
	}
	_, err := s.c.CreateBucket(ctx, in)
	if err == nil {
		return nil
	}
	var owned *types.BucketAlreadyOwnedByYou
	if errors.As(err, &owned) || apiCode(err) == "BucketAlreadyOwnedByYou" {
		return nil
	}
	var exists *types.BucketAlreadyExists
	if errors.As(err, &exists) || apiCode(err) == "BucketAlreadyExists" {
		// AWS says this when another account owns the name; S3-compatible
		// servers also say it for the caller's own bucket. Tell the two
		// apart by whether the bucket can be used.
		if _, herr := s.c.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(bucket)}); herr == nil {
			return nil
		}
		return fmt.Errorf("cannot create bucket %q: the name belongs to another account; choose another bucket prefix: %w", bucket, err)
	}
	return fmt.Errorf("cannot create bucket %q: %w", bucket, err)
}

func (s *s3Store) Put(ctx context.Context, bucket, key string, body []byte) error {
	if err := ValidateBucketName(bucket); err != nil {
		return err
	}
	if err := ValidateKey(key); err != nil {
		return err
	}
	_, err := s.c.PutObject(ctx, &s3.PutObjectInput{
		Bucket:        aws.String(bucket),
		Key:           aws.String(key),
		Body:          bytes.NewReader(body),
		ContentLength: aws.Int64(int64(len(body))),
	})
	if err != nil {
		if isNoSuchBucket(err) {
			return fmt.Errorf("cannot put %q: bucket %q: %w (the bucket does not exist; create it first)", key, bucket, ErrNotFound)
		}
		return fmt.Errorf("cannot put %q in bucket %q: %w", key, bucket, err)
	}
	return nil
}

func (s *s3Store) Get(ctx context.Context, bucket, key string) ([]byte, error) {
	if err := ValidateBucketName(bucket); err != nil {
		return nil, err
	}
	if err := ValidateKey(key); err != nil {
		return nil, err
	}
	out, err := s.c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		var nk *types.NoSuchKey
		if errors.As(err, &nk) || isNoSuchBucket(err) || apiCode(err) == "NoSuchKey" {
			return nil, fmt.Errorf("cannot get %q from bucket %q: %w", key, bucket, ErrNotFound)
		}
		return nil, fmt.Errorf("cannot get %q from bucket %q: %w", key, bucket, err)
	}
	defer out.Body.Close()
	var buf bytes.Buffer
	if n := aws.ToInt64(out.ContentLength); n > 0 {
		buf.Grow(int(n))
	}
	if _, err := io.Copy(&buf, out.Body); err != nil {
		return nil, fmt.Errorf("cannot read %q from bucket %q: %w", key, bucket, err)
	}
	return buf.Bytes(), nil
}

func (s *s3Store) List(ctx context.Context, bucket, prefix string) ([]Object, error) {
	if err := ValidateBucketName(bucket); err != nil {
		return nil, err
	}
	in := &s3.ListObjectsV2Input{Bucket: aws.String(bucket)}
	if prefix != "" {
		in.Prefix = aws.String(prefix)
	}
	objs := []Object{}
	p := s3.NewListObjectsV2Paginator(s.c, in)
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			if isNoSuchBucket(err) {
				return []Object{}, nil
			}
			return nil, fmt.Errorf("cannot list bucket %q (prefix %q): %w", bucket, prefix, err)
		}
		for _, o := range page.Contents {
			objs = append(objs, Object{Key: aws.ToString(o.Key), Size: aws.ToInt64(o.Size)})
		}
	}
	// S3 returns keys in order already; sorting keeps the contract for
	// servers that do not.
	slices.SortFunc(objs, func(a, b Object) int { return strings.Compare(a.Key, b.Key) })
	return objs, nil
}

func (s *s3Store) Delete(ctx context.Context, bucket, key string) error {
	if err := ValidateBucketName(bucket); err != nil {
		return err
	}
	if err := ValidateKey(key); err != nil {
		return err
	}
	_, err := s.c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil && !isNoSuchBucket(err) && apiCode(err) != "NoSuchKey" {
		return fmt.Errorf("cannot delete %q from bucket %q: %w", key, bucket, err)
	}
	return nil
}

func (s *s3Store) Buckets(ctx context.Context, prefix string) ([]string, error) {
	in := &s3.ListBucketsInput{}
	if prefix != "" {
		in.Prefix = aws.String(prefix)
	}
	names := []string{}
	p := s3.NewListBucketsPaginator(s.c, in)
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("cannot list buckets (prefix %q): %w", prefix, err)
		}
		for _, b := range page.Buckets {
			// Filter here too: not every S3-compatible server knows Prefix.
			if n := aws.ToString(b.Name); strings.HasPrefix(n, prefix) {
				names = append(names, n)
			}
		}
	}
	slices.Sort(names)
	return names, nil
}
