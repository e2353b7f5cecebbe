package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/tenantpulse/tenantpulse/internal/app/trainset"
	"github.com/tenantpulse/tenantpulse/internal/fsutil"
	"github.com/tenantpulse/tenantpulse/internal/model"
	"github.com/tenantpulse/tenantpulse/internal/objstore"
)

const trainUsage = `Usage:
  tenantpulse train --input FILE --out MODEL [options]
      from labelled rows: the reference data set's CSV (a header with Churn)
      or SageMaker's training CSV (label first, no header)
  tenantpulse train --labels FILE --out MODEL [--data ./data | --archive-store s3 ...] [--as-of TIME] [--features live|reference] [options]
      from the archive plus labels: every archived event replays through the
      live metrics; each labelled tenant's metrics as of --as-of (default: the
      latest archived event) are one row. Labels are a CSV (tenantid,churned)
      or the simulator's truth (simulate --truth FILE).

Options:
`

// trainMain trains a churn model from a CSV file, or from the archive and
// a labels file, and writes the model file.
func trainMain(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("train", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, trainUsage); fs.PrintDefaults() }
	input := fs.String("input", "", "labelled rows: the reference data set's CSV (a header with Churn) or SageMaker's training CSV (label first, no header)")
	labelsPath := fs.String("labels", "", "train from the archive: which tenants churned, a CSV (tenantid,churned) or the simulator's truth JSON")
	asOfFlag := fs.String("as-of", "", "with --labels: the time (RFC 3339) the tenants' metrics are taken at (default: the latest archived event)")
	features := fs.String("features", "live", "with --labels: live (the reference columns plus the live signals) or reference (the reference data set's seven columns)")
	openArchive := archiveFlags(fs)
	out := fs.String("out", "", "the model file to write")
	var o model.Options
	fs.StringVar(&o.Type, "model-type", model.TypeLinear, "linear (SageMaker's linear learner) or binned (a linear learner over learned bins of the numbers)")
	fs.Uint64Var(&o.Seed, "seed", 1, "seed of shuffling and initialization: the same seed and input give the same model")
	fs.StringVar(&o.Criterion, "criterion", "accuracy", "what the decision threshold maximizes on the validation split: accuracy or f1")
	fs.IntVar(&o.Epochs, "epochs", 15, "most passes over the training rows (early stopping may end sooner)")
	fs.IntVar(&o.BatchSize, "batch-size", 100, "rows per mini-batch")
	fs.Float64Var(&o.LearnRate, "learning-rate", 0.01, "Adam's step size")
	fs.Float64Var(&o.L1, "l1", 0, "L1 regularization")
	fs.Float64Var(&o.L2, "l2", 0.0001, "L2 regularization (weight decay)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if (*input == "") == (*labelsPath == "") || *out == "" {
		fmt.Fprintln(stderr, "train: give --out MODEL (the model file to write) and either --input FILE (labelled rows) or --labels FILE (train from the archive)")
		return 2
	}
	var spec model.Spec
	var rows []model.Example
	if *input != "" {
		f, err := os.Open(*input)
		if err != nil {
			fmt.Fprintf(stderr, "train: %v\n", err)
			return 1
		}
		spec, rows, err = model.ReadCSV(f)
		f.Close()
		if err != nil {
			fmt.Fprintf(stderr, "train: %s: %v\n", *input, err)
			return 1
		}
		o.Input = filepath.Base(*input)
	} else {
		switch *features {
		case "live":
			spec = model.LiveSpec()
		case "reference":
			spec = model.DefaultSpec()
		default:
			fmt.Fprintf(stderr, "train: --features is %q; use live or reference\n", *features)
			return 2
		}
		var asOf time.Time
		if *asOfFlag != "" {
			var err error
			if asOf, err = time.Parse(time.RFC3339Nano, *asOfFlag); err != nil {
				fmt.Fprintf(stderr, "train: --as-of %q is not an RFC 3339 time such as 2026-11-01T00:00:00Z\n", *asOfFlag)
				return 2
			}
		}
		// Training only reads the archive: no lock, nothing written there.
		store, layout, _, code := openArchive(ctx, "train", stderr, false)
		if code != 0 {
			return code
		}
		var input string
		if rows, input, code = archiveExamples(ctx, store, layout, asOf, *labelsPath, stdout, stderr); code != 0 {
			return code
		}
		o.Input = input
	}
	m, err := model.Train(spec, rows, o)
	if err != nil {
		fmt.Fprintf(stderr, "train: %v\n", err)
		return 1
	}
	b, err := m.Marshal()
	if err != nil {
		fmt.Fprintf(stderr, "train: %v\n", err)
		return 1
	}
	if err := fsutil.WriteAtomic(*out, b); err != nil {
		fmt.Fprintf(stderr, "train: %v\n", err)
		return 1
	}
	t := m.Training
	fmt.Fprintf(stdout, "trained a %s model on %d rows (%d to fit, %d to validate) in %d epochs, %.0f ms\n",
		m.Type, t.Rows, t.TrainRows, t.ValidRows, t.Epochs, t.DurationMs)
	fmt.Fprintf(stdout, "held out %d rows (every fifth): accuracy %.4f  precision %.4f  recall %.4f  F1 %.4f  ROC AUC %.4f  at threshold %.3f (%s)\n",
		m.Metrics.Rows, m.Metrics.Accuracy, m.Metrics.Precision, m.Metrics.Recall, m.Metrics.F1, m.Metrics.AUC, m.Threshold, m.Criterion)
	fmt.Fprintf(stdout, "wrote %s (%s); the endpoint takes CSV rows of %d columns in this order:\n  %v\n", *out, m.Checksum, len(m.Columns), m.Columns)
	return 0
}

// archiveExamples replays the archive and joins it with the labels file.
func archiveExamples(ctx context.Context, store objstore.Store, layout objstore.Layout, asOf time.Time, labelsPath string, stdout, stderr io.Writer) ([]model.Example, string, int) {
	f, err := os.Open(labelsPath)
	if err != nil {
		fmt.Fprintf(stderr, "train: %v\n", err)
		return nil, "", 1
	}
	labels, err := trainset.ReadLabels(f)
	f.Close()
	if err != nil {
		fmt.Fprintf(stderr, "train: %s: %v\n", labelsPath, err)
		return nil, "", 1
	}
	t0 := time.Now()
	rp, err := trainset.ReplayArchive(ctx, trainset.Options{Store: store, Layout: layout, AsOf: asOf})
	if err != nil {
		fmt.Fprintf(stderr, "train: %v\n", err)
		return nil, "", 1
	}
	rows, st := rp.Examples(labels)
	asOfText := rp.AsOf.Format("2006-01-02T15:04:05.000Z07:00")
	fmt.Fprintf(stdout, "replayed %d events from %d archive files in %.1fs: %d tenants as of %s (%d later events left out)\n",
		rp.Events, rp.Files, time.Since(t0).Seconds(), len(rp.Tenants), asOfText, rp.Later)
	fmt.Fprintf(stdout, "labels: %d tenants to learn from (%d churned); %d archived tenants have no label, %d labelled ones are not in the archive\n",
		st.Examples, st.Churned, st.Unlabelled, st.Missing)
	if st.Churned == 0 || st.Churned == st.Examples {
		fmt.Fprintf(stderr, "train: the labelled tenants are all one class (%d of %d churned); a model needs both\n", st.Churned, st.Examples)
		return nil, "", 1
	}
	return rows, fmt.Sprintf("archive + %s as of %s", filepath.Base(labelsPath), asOfText), 0
}
