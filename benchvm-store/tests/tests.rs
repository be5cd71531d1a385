//! Integration tests of bundle stores: the same scenarios against a folder
//! and against a real S3 server (SeaweedFS, started by the tests).

#[path = "suite/folder.rs"]
mod folder;
#[path = "suite/s3.rs"]
mod s3;
#[path = "suite/scenarios.rs"]
mod scenarios;
#[path = "suite/util/mod.rs"]
mod util;
