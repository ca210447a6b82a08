//! HDR latency histograms with the fixed bounds every part of loadforge uses, so that any
//! two of them merge exactly.

use hdrhistogram::serialization::{Deserializer, Serializer, V2Serializer};

use crate::error::{Error, Result};

/// Lowest discernible value: 1 µs.
pub const LOWEST_US: u64 = 1;
/// Highest trackable value: one hour in µs; larger values are clamped.
pub const HIGHEST_US: u64 = 3_600_000_000;
/// Significant decimal digits kept.
pub const SIGFIGS: u8 = 3;

/// A latency histogram in microseconds.
#[derive(Clone, Debug)]
pub struct Histogram {
    inner: hdrhistogram::Histogram<u64>,
}

impl Default for Histogram {
    fn default() -> Self {
        Self::new()
    }
}

impl PartialEq for Histogram {
    fn eq(&self, other: &Self) -> bool {
        self.inner == other.inner
    }
}

impl Histogram {
    /// An empty histogram with the fixed bounds.
    pub fn new() -> Self {
        let inner = hdrhistogram::Histogram::new_with_bounds(LOWEST_US, HIGHEST_US, SIGFIGS)
            .expect("fixed histogram bounds are valid");
        Self { inner }
    }

    /// Records `count` occurrences of `value_us`, clamped to the trackable range.
    #[inline]
    pub fn record_n(&mut self, value_us: u64, count: u64) {
        let v = value_us.min(HIGHEST_US);
        // Cannot fail: the value is clamped into range and counts saturate.
        let _ = self.inner.record_n(v, count);
    }

    /// Records one value.
    #[inline]
    pub fn record(&mut self, value_us: u64) {
        self.record_n(value_us, 1);
    }

    /// Records one value and back-fills the samples a stalled fixed-interval sender would
    /// have taken (HdrHistogram's coordinated-omission correction).
    pub fn record_correct(&mut self, value_us: u64, expected_interval_us: u64) {
        let v = value_us.min(HIGHEST_US);
        let _ = self.inner.record_correct(v, expected_interval_us);
    }

    /// Adds every value of `other` (exact merge).
    pub fn add(&mut self, other: &Histogram) -> Result<()> {
        self.inner
            .add(&other.inner)
            .map_err(|e| Error::Histogram(format!("cannot merge histograms: {e:?}")))
    }

    /// Empties the histogram.
    pub fn reset(&mut self) {
        self.inner.reset();
    }

    /// Number of recorded values.
    pub fn count(&self) -> u64 {
        self.inner.len()
    }

    /// Whether nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.inner.is_empty()
    }

    /// Smallest recorded value (0 when empty).
    pub fn min(&self) -> u64 {
        if self.inner.is_empty() {
            0
        } else {
            self.inner.min()
        }
    }

    /// Largest recorded value (0 when empty).
    pub fn max(&self) -> u64 {
        self.inner.max()
    }

    /// Mean of the recorded values.
    pub fn mean(&self) -> f64 {
        self.inner.mean()
    }

    /// Standard deviation of the recorded values.
    pub fn stdev(&self) -> f64 {
        self.inner.stdev()
    }

    /// The value at `percentile` (0..=100).
    pub fn value_at_percentile(&self, percentile: f64) -> u64 {
        self.inner.value_at_percentile(percentile.clamp(0.0, 100.0))
    }

    /// HdrHistogram V2 encoding (uncompressed, cookie 0x1c849303).
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(64);
        V2Serializer::new()
            .serialize(&self.inner, &mut out)
            .expect("serializing into a Vec cannot fail");
        out
    }

    /// Decodes a V2 (or V2-compressed) histogram. A histogram encoded with other bounds is
    /// re-recorded into the fixed bounds so it still merges.
    pub fn decode(data: &[u8]) -> Result<Self> {
        let decoded: hdrhistogram::Histogram<u64> = Deserializer::new()
            .deserialize(&mut std::io::Cursor::new(data))
            .map_err(|e| Error::Histogram(format!("invalid HdrHistogram V2 data: {e:?}")))?;
        let mut h = Self::new();
        if decoded.low() == LOWEST_US && decoded.high() == HIGHEST_US && decoded.sigfig() == SIGFIGS
        {
            h.inner = decoded;
            h.inner.auto(false);
        } else {
            for v in decoded.iter_recorded() {
                h.record_n(v.value_iterated_to(), v.count_at_value());
            }
        }
        Ok(h)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_keeps_values() {
        let mut h = Histogram::new();
        for v in [1, 5, 100, 12_345, 3_600_000_000, 9_000_000_000] {
            h.record(v);
        }
        let back = Histogram::decode(&h.encode()).unwrap();
        assert_eq!(back, h);
        assert_eq!(back.count(), 6);
        assert_eq!(back.max(), h.max());
    }

    #[test]
    fn encoding_starts_with_v2_cookie() {
        let h = Histogram::new();
        // V2 cookie base; bits 4-7 carry the word size (as Java's encoder writes).
        let cookie = u32::from_be_bytes(h.encode()[..4].try_into().unwrap());
        assert_eq!(cookie & !0xf0, 0x1c84_9303);
    }
}
