//! Environment capture.
