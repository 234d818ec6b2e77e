//! The map from raw cosine to the `similarity` in [0, 1] that the API exposes.
//!
//! Raw cosines of different recognizers are not on one scale (a MobileFaceNet's same-person
//! pairs start near 0.4, an ArcFace-R100's much higher). A logistic curve per model, with its
//! midpoint and slope stored next to the model in config, puts the model's recommended
//! operating point at the API's default threshold 0.7, whatever the model.

/// `similarity = 1 / (1 + exp(-slope * (cosine - midpoint)))`: strictly increasing in the
/// cosine, so a threshold on similarity is a threshold on cosine (see [`Self::cosine_at`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SimilarityCalibration {
    midpoint: f32,
    slope: f32,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("calibration needs a finite midpoint and a positive slope (got {midpoint}, {slope})")]
pub struct CalibrationError {
    pub midpoint: f32,
    pub slope: f32,
}

impl SimilarityCalibration {
    pub fn new(midpoint: f32, slope: f32) -> Result<Self, CalibrationError> {
        if midpoint.is_finite() && slope.is_finite() && slope > 0.0 {
            Ok(Self { midpoint, slope })
        } else {
            Err(CalibrationError { midpoint, slope })
        }
    }

    /// The calibration that maps `operating_cosine` to `operating_similarity` with `slope`.
    pub fn through(
        operating_cosine: f32,
        operating_similarity: f32,
        slope: f32,
    ) -> Result<Self, CalibrationError> {
        let logit = (operating_similarity / (1.0 - operating_similarity)).ln();
        Self::new(operating_cosine - logit / slope, slope)
    }

    pub fn midpoint(&self) -> f32 {
        self.midpoint
    }

    pub fn slope(&self) -> f32 {
        self.slope
    }

    pub fn similarity(&self, cosine: f32) -> f32 {
        1.0 / (1.0 + (-self.slope * (cosine - self.midpoint)).exp())
    }

    /// The smallest cosine whose similarity reaches `similarity` (the inverse map). 0 and 1
    /// map to -inf and +inf: everything, or nothing, qualifies.
    pub fn cosine_at(&self, similarity: f32) -> f32 {
        if similarity <= 0.0 {
            return f32::NEG_INFINITY;
        }
        if similarity >= 1.0 {
            return f32::INFINITY;
        }
        self.midpoint + (similarity / (1.0 - similarity)).ln() / self.slope
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_operating_point_maps_to_its_similarity_and_back() {
        let c = SimilarityCalibration::through(0.42, 0.7, 12.0).unwrap();
        assert!((c.similarity(0.42) - 0.7).abs() < 1e-5);
        assert!((c.cosine_at(0.7) - 0.42).abs() < 1e-5);
    }

    #[test]
    fn similarity_is_monotone_and_bounded() {
        let c = SimilarityCalibration::new(0.35, 10.0).unwrap();
        let mut last = -1.0;
        for i in -100..=100 {
            let s = c.similarity(i as f32 / 100.0);
            assert!((0.0..=1.0).contains(&s));
            assert!(s > last);
            last = s;
        }
        assert_eq!(c.cosine_at(0.0), f32::NEG_INFINITY);
        assert_eq!(c.cosine_at(1.0), f32::INFINITY);
    }

    #[test]
    fn degenerate_parameters_are_rejected() {
        assert!(SimilarityCalibration::new(0.3, 0.0).is_err());
        assert!(SimilarityCalibration::new(f32::NAN, 1.0).is_err());
    }
}
