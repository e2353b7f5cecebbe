package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/tenantpulse/tenantpulse/internal/fsutil"
	"github.com/tenantpulse/tenantpulse/internal/model"
)

// trainMain trains a churn model from a CSV file and writes the model file.
func trainMain(_ context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("train", flag.ContinueOnError)
	fs.SetOutput(stderr)
	input := fs.String("input", "", "labelled rows: the reference data set's CSV (a header with Churn) or SageMaker's training CSV (label first, no header)")
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
	if *input == "" || *out == "" {
		fmt.Fprintln(stderr, "train: give --input FILE (labelled rows) and --out MODEL (the model file to write)")
		return 2
	}
	f, err := os.Open(*input)
	if err != nil {
		fmt.Fprintf(stderr, "train: %v\n", err)
		return 1
	}
	spec, rows, err := model.ReadCSV(f)
	f.Close()
	if err != nil {
		fmt.Fprintf(stderr, "train: %s: %v\n", *input, err)
		return 1
	}
	o.Input = filepath.Base(*input)
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
