//! Face embeddings and the space they live in. An embedding always carries the id of the
//! model that produced it, so vectors of two recognizers can never be compared by mistake.

use std::fmt;

/// Names one recognizer's embedding space (e.g. `fr_feature`). Two embeddings are comparable
/// only when their model ids are equal.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ModelId(String);

impl ModelId {
    pub fn parse(raw: impl Into<String>) -> Result<Self, EmbeddingError> {
        let raw = raw.into();
        let ok = !raw.is_empty()
            && raw.len() <= 64
            && raw
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | ':' | '-' | '@'));
        if ok {
            Ok(Self(raw))
        } else {
            Err(EmbeddingError::InvalidModelId(raw))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ModelId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A recognizer's output space: which model, how many dimensions.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct EmbeddingSpace {
    pub model: ModelId,
    pub dim: usize,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EmbeddingError {
    #[error("model id {0:?} must be 1-64 characters of [A-Za-z0-9_.:@-]")]
    InvalidModelId(String),
    #[error("embedding has {actual} dimensions, the model {model} produces {expected}")]
    DimensionMismatch {
        model: ModelId,
        expected: usize,
        actual: usize,
    },
    #[error("embedding contains a non-finite value")]
    NonFinite,
    #[error("embedding has zero length and cannot be normalised")]
    Zero,
    #[error("embedding is not L2-normalised (norm {norm})")]
    NotNormalised { norm: f32 },
    #[error("embeddings of model {left} and model {right} are not comparable")]
    ModelMismatch { left: ModelId, right: ModelId },
}

/// An L2-normalised face embedding of a known model and dimension.
#[derive(Debug, Clone, PartialEq)]
pub struct Embedding {
    model: ModelId,
    values: Vec<f32>,
}

/// Accepted deviation of a stored vector's norm from 1 (float32 round trips through storage).
const NORM_TOLERANCE: f32 = 1e-3;

impl Embedding {
    /// Normalises a raw model output of `space`.
    pub fn normalise(space: &EmbeddingSpace, mut values: Vec<f32>) -> Result<Self, EmbeddingError> {
        check_dim(space, &values)?;
        let norm = l2(&values)?;
        if norm == 0.0 {
            return Err(EmbeddingError::Zero);
        }
        values.iter_mut().for_each(|v| *v /= norm);
        Ok(Self {
            model: space.model.clone(),
            values,
        })
    }

    /// Accepts an already normalised vector (e.g. read back from storage).
    pub fn new(space: &EmbeddingSpace, values: Vec<f32>) -> Result<Self, EmbeddingError> {
        check_dim(space, &values)?;
        let norm = l2(&values)?;
        if (norm - 1.0).abs() > NORM_TOLERANCE {
            return Err(EmbeddingError::NotNormalised { norm });
        }
        Ok(Self {
            model: space.model.clone(),
            values,
        })
    }

    pub fn model(&self) -> &ModelId {
        &self.model
    }

    pub fn dim(&self) -> usize {
        self.values.len()
    }

    pub fn as_slice(&self) -> &[f32] {
        &self.values
    }

    pub fn into_vec(self) -> Vec<f32> {
        self.values
    }

    /// True when this embedding belongs to `space`.
    pub fn is_in(&self, space: &EmbeddingSpace) -> bool {
        self.model == space.model && self.values.len() == space.dim
    }

    /// Cosine similarity (a dot product, both sides being unit vectors).
    pub fn cosine(&self, other: &Embedding) -> Result<f32, EmbeddingError> {
        if self.model != other.model || self.values.len() != other.values.len() {
            return Err(EmbeddingError::ModelMismatch {
                left: self.model.clone(),
                right: other.model.clone(),
            });
        }
        Ok(dot(&self.values, &other.values))
    }
}

/// Dot product in f64 accumulation; used by in-process search backends too.
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter()
        .zip(b)
        .map(|(x, y)| f64::from(*x) * f64::from(*y))
        .sum::<f64>() as f32
}

fn check_dim(space: &EmbeddingSpace, values: &[f32]) -> Result<(), EmbeddingError> {
    if values.len() != space.dim {
        return Err(EmbeddingError::DimensionMismatch {
            model: space.model.clone(),
            expected: space.dim,
            actual: values.len(),
        });
    }
    Ok(())
}

fn l2(values: &[f32]) -> Result<f32, EmbeddingError> {
    if values.iter().any(|v| !v.is_finite()) {
        return Err(EmbeddingError::NonFinite);
    }
    Ok(values
        .iter()
        .map(|v| f64::from(*v).powi(2))
        .sum::<f64>()
        .sqrt() as f32)
}

/// A similarity threshold on the calibrated [0, 1] scale that the API exposes.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
pub struct Threshold(f32);

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("threshold must be a number between 0 and 1, got {0}")]
pub struct ThresholdError(pub f32);

impl Threshold {
    /// The API's default: the recognizer's recommended operating point.
    pub const DEFAULT: Threshold = Threshold(0.7);

    pub fn new(value: f32) -> Result<Self, ThresholdError> {
        if value.is_finite() && (0.0..=1.0).contains(&value) {
            Ok(Self(value))
        } else {
            Err(ThresholdError(value))
        }
    }

    pub fn value(self) -> f32 {
        self.0
    }
}

impl Default for Threshold {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// A raw cosine between two embeddings, in [-1, 1]: the scale the stores scan and the
/// recognizers' calibrations are measured on (not the API's calibrated similarity).
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
pub struct Cosine(f32);

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("a cosine must be a number between -1 and 1, got {0}")]
pub struct CosineError(pub f32);

impl Cosine {
    /// The lowest cosine: a floor that every face passes.
    pub const MIN: Cosine = Cosine(-1.0);

    /// `value` brought into [-1, 1]: a floor computed above 1 lets nothing pass but an exact
    /// match (the caller's own rules then refuse it), one below -1 everything; NaN, nothing.
    pub fn saturating(value: f32) -> Self {
        if value.is_nan() {
            Self(1.0)
        } else {
            Self(value.clamp(-1.0, 1.0))
        }
    }

    pub fn new(value: f32) -> Result<Self, CosineError> {
        if value.is_finite() && (-1.0..=1.0).contains(&value) {
            Ok(Self(value))
        } else {
            Err(CosineError(value))
        }
    }

    pub fn value(self) -> f32 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn space(dim: usize) -> EmbeddingSpace {
        EmbeddingSpace {
            model: ModelId::parse("test-model").unwrap(),
            dim,
        }
    }

    #[test]
    fn a_cosine_is_a_finite_number_in_minus_one_to_one() {
        assert_eq!(Cosine::new(-1.0).unwrap(), Cosine::MIN);
        assert_eq!(Cosine::new(0.42).unwrap().value(), 0.42);
        for bad in [-1.01, 1.01, f32::NAN, f32::INFINITY] {
            assert!(Cosine::new(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn normalise_yields_a_unit_vector_of_the_space() {
        let e = Embedding::normalise(&space(3), vec![3.0, 0.0, 4.0]).unwrap();
        assert_eq!(e.as_slice(), &[0.6, 0.0, 0.8]);
        assert!(e.is_in(&space(3)));
        assert!((e.cosine(&e).unwrap() - 1.0).abs() < 1e-6);
    }

    #[test]
    fn wrong_dimension_zero_and_nan_vectors_are_rejected() {
        assert!(matches!(
            Embedding::normalise(&space(4), vec![1.0; 3]),
            Err(EmbeddingError::DimensionMismatch {
                expected: 4,
                actual: 3,
                ..
            })
        ));
        assert_eq!(
            Embedding::normalise(&space(2), vec![0.0, 0.0]),
            Err(EmbeddingError::Zero)
        );
        assert_eq!(
            Embedding::normalise(&space(2), vec![f32::NAN, 1.0]),
            Err(EmbeddingError::NonFinite)
        );
        assert!(matches!(
            Embedding::new(&space(2), vec![1.0, 1.0]),
            Err(EmbeddingError::NotNormalised { .. })
        ));
    }

    #[test]
    fn embeddings_of_different_models_are_not_comparable() {
        let a = Embedding::normalise(&space(2), vec![1.0, 0.0]).unwrap();
        let other = EmbeddingSpace {
            model: ModelId::parse("other").unwrap(),
            dim: 2,
        };
        let b = Embedding::normalise(&other, vec![1.0, 0.0]).unwrap();
        assert!(matches!(
            a.cosine(&b),
            Err(EmbeddingError::ModelMismatch { .. })
        ));
    }

    #[test]
    fn thresholds_live_in_the_unit_interval() {
        assert!(Threshold::new(0.0).is_ok());
        assert!(Threshold::new(1.0).is_ok());
        assert!(Threshold::new(1.01).is_err());
        assert!(Threshold::new(-0.1).is_err());
        assert!(Threshold::new(f32::NAN).is_err());
        assert_eq!(Threshold::default().value(), 0.7);
    }

    #[test]
    fn model_ids_are_validated() {
        assert!(ModelId::parse("fr_feature@1").is_ok());
        assert!(ModelId::parse("").is_err());
        assert!(ModelId::parse("a b").is_err());
    }
}
