// Package model owns the churn model: the feature specification that
// turns what is known of a tenant (a business payload or its live metrics)
// into the numeric vector the model scores, the training of a linear
// learner (SageMaker's binary classifier: normalization, logistic loss,
// mini-batch optimization with L1/L2, early stopping, a threshold chosen by
// a criterion) and of its binned variant, the scoring and the per-feature
// drivers of a score, the held-out metrics (with the ROC curve) and the
// importance of each feature, and the versioned model file
// (docs/format/model.md).
//
// It must not serve HTTP, read streams or archives, or know where a model
// file lives: the scoring service and the train command do that.
//
// Non-obvious:
//   - A model carries its Spec. Every caller builds its input with
//     Spec.Encode, so the order of the CSV columns the endpoint takes is
//     the model's, never a caller's idea of it (the reference demo's Lambda
//     sent its columns in another order than the model was trained on).
//   - Normalization is folded into the weights when training ends, so
//     Score is a dot product (linear) or a few bin lookups (binned) and a
//     sigmoid: no allocation, tens of nanoseconds.
//   - Unknown categories encode as all-zero one-hot columns (the average
//     tenant for that feature) and missing numbers as the training mean:
//     both contribute nothing to the score, and Explain says so.
//   - The checksum is over Load's re-encoding of the file, so a field
//     added to the format later (metrics.roc, importance) must be
//     omitempty: a file written before it then re-encodes to the same
//     bytes and keeps its checksum (testdata/binned-before-roc.model.json
//     is such a file).
//   - The importance of a feature takes each tenant's contribution from
//     the code Explain takes it from (contribution), so the importance
//     and a score's drivers always mean the same thing.
//   - Every numeric fact has a Bound (Sources, BoundOf), derived from the
//     event API's bounds. Load proves by interval arithmetic that the
//     logit and the drivers stay finite for every input inside them
//     (CheckFinite), and Encode refuses facts outside them, so a score is
//     never NaN and a driver never ±Inf.
//   - The held-out split is every fifth row (rows 5, 10, ... of the input,
//     counting from 1), so other tools can reproduce it; the validation
//     split for early stopping and the threshold is every tenth of the
//     rest.
package model
