//! Typed errors of bundle stores. Each names the store or the object it
//! concerns (`s3://bucket/prefix/bundles/<id>.tar.zst`, or a file path).

use benchvm_format::BundleError;

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The store location could not be understood.
    #[error("{spec}: {reason}")]
    Location { spec: String, reason: String },
    /// No store marker at the location: not a store, or a mistyped prefix.
    #[error("{store} is not a benchvm bundle store (no {marker} in it); `collect push BUNDLE --to {store}` makes one")]
    NotAStore { store: String, marker: &'static str },
    /// The store marker is of another kind or version.
    #[error("{object}: {reason}")]
    Marker { object: String, reason: String },
    /// The S3 client could not be set up from the environment.
    #[error("setting up the S3 client for {store}: {reason}")]
    Config { store: String, reason: String },
    /// Reading or writing an object failed.
    #[error("{object}: {source}")]
    Io {
        object: String,
        source: std::io::Error,
    },
    /// The object store answered with an error.
    #[error("{object}: {source}")]
    Remote {
        object: String,
        source: Box<object_store::Error>,
    },
    /// An object is larger than anything of its kind should be.
    #[error("{object}: {size} bytes, over the {cap} bytes a {what} may have")]
    TooLarge {
        object: String,
        size: u64,
        cap: u64,
        what: &'static str,
    },
    /// An object in the store is not what a store holds there.
    #[error("{object}: {reason}")]
    Refused { object: String, reason: String },
    /// A bundle object failed verification.
    #[error("{object}: {source}")]
    Bundle { object: String, source: BundleError },
    /// A bundle object verified, but it is another bundle than its name says.
    #[error("{object} holds bundle {holds}, not the bundle its name says (refused)")]
    WrongId { object: String, holds: String },
}

impl StoreError {
    pub(crate) fn io(object: impl Into<String>, source: std::io::Error) -> Self {
        StoreError::Io {
            object: object.into(),
            source,
        }
    }

    pub(crate) fn remote(object: impl Into<String>, source: object_store::Error) -> Self {
        StoreError::Remote {
            object: object.into(),
            source: Box::new(source),
        }
    }

    pub(crate) fn refused(object: impl Into<String>, reason: impl Into<String>) -> Self {
        StoreError::Refused {
            object: object.into(),
            reason: reason.into(),
        }
    }
}
