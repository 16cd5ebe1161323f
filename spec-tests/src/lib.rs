//! Harness lives in tests/.
