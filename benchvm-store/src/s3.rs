//! A store in an S3 bucket, through `object_store`'s S3 client, driven from
//! synchronous code by a small tokio runtime of its own.
//!
//! Endpoint, region and credentials come from the usual AWS environment
//! variables: `AWS_ENDPOINT_URL` (an S3-compatible server such as SeaweedFS
//! or MinIO; plain `http://` is allowed when the endpoint says so),
//! `AWS_REGION` or `AWS_DEFAULT_REGION` (default `us-east-1`),
//! `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`, and the
//! others `object_store` reads (web identity, container credentials).
//! Requests use path-style URLs unless `AWS_VIRTUAL_HOSTED_STYLE_REQUEST`
//! is `true`.
//!
//! New objects are written with `If-None-Match: *` (a conditional put), so
//! a racing writer never replaces an object; bundles over
//! [`S3::multipart_threshold`] go up in parts, after a check that none is
//! there (two writers racing there write the same bundle id, see SPEC.md).

use std::io::{self, Read};
use std::sync::Arc;
use std::time::Duration;

use bytes::{Buf, Bytes};
use futures_util::stream::{BoxStream, StreamExt, TryStreamExt};
use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::path::Path as ObjectPath;
use object_store::{
    ClientOptions, ObjectStore, ObjectStoreExt, PutMode, PutOptions, PutPayload, RetryConfig,
    WriteMultipart,
};
use tokio::runtime::Runtime;

use crate::backend::{Backend, Listed, Put, Reader, Source};
use crate::error::StoreError;

/// Objects fetched at once by [`Backend::get_many`].
const CONCURRENT_GETS: usize = 16;
/// Size of each part of a multipart upload (S3's minimum is 5 MiB).
const PART_SIZE: usize = 8 << 20;

/// Objects under a prefix of a bucket.
#[derive(Debug, Clone)]
pub struct S3 {
    bucket: String,
    prefix: String,
    client: Arc<AmazonS3>,
    runtime: Arc<Runtime>,
    /// Files larger than this are uploaded in parts.
    pub multipart_threshold: u64,
}

impl S3 {
    /// The client for `bucket` and `prefix`, configured from the
    /// environment (see the module doc).
    pub fn from_env(bucket: &str, prefix: &str) -> Result<Self, StoreError> {
        S3::with_vars(bucket, prefix, std::env::vars())
    }

    /// The client for `bucket` and `prefix`, configured from `vars` as
    /// from the environment's `AWS_*` variables.
    pub fn with_vars(
        bucket: &str,
        prefix: &str,
        vars: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, StoreError> {
        let store = format!("s3://{bucket}/{prefix}");
        let config = |reason: String| StoreError::Config {
            store: store.clone(),
            reason,
        };
        let vars: Vec<(String, String)> = vars
            .into_iter()
            .filter(|(k, v)| k.starts_with("AWS_") && !v.is_empty())
            .collect();
        let var = |name: &str| {
            vars.iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
        };
        let mut builder = AmazonS3Builder::new();
        for (key, value) in &vars {
            if let Ok(config_key) = key.to_ascii_lowercase().parse() {
                builder = builder.with_config(config_key, value);
            }
        }
        builder = builder.with_bucket_name(bucket);
        let endpoint = ["AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL", "AWS_ENDPOINT"]
            .iter()
            .find_map(|v| var(v));
        let allow_http = endpoint.is_some_and(|e| e.starts_with("http://"))
            || var("AWS_ALLOW_HTTP") == Some("true");
        if var("AWS_REGION").is_none() && var("AWS_DEFAULT_REGION").is_none() {
            builder = builder.with_region("us-east-1");
        }
        // A server that is down fails in seconds, not after minutes of
        // retries.
        let retry = RetryConfig {
            max_retries: 3,
            retry_timeout: Duration::from_secs(30),
            ..Default::default()
        };
        let client = builder
            .with_retry(retry)
            .with_client_options(
                ClientOptions::new()
                    .with_allow_http(allow_http)
                    .with_connect_timeout(Duration::from_secs(5))
                    .with_timeout(Duration::from_secs(300)),
            )
            .build()
            .map_err(|e| config(e.to_string()))?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("benchvm-s3")
            .enable_all()
            .build()
            .map_err(|e| config(format!("starting its runtime: {e}")))?;
        Ok(S3 {
            bucket: bucket.to_owned(),
            prefix: prefix.to_owned(),
            client: Arc::new(client),
            runtime: Arc::new(runtime),
            multipart_threshold: 64 << 20,
        })
    }

    fn path(&self, key: &str) -> ObjectPath {
        if self.prefix.is_empty() {
            ObjectPath::from(key)
        } else {
            ObjectPath::from(format!("{}/{key}", self.prefix))
        }
    }

    fn remote(&self, key: &str, e: object_store::Error) -> StoreError {
        StoreError::remote(self.name(key), e)
    }

    async fn get_async(&self, key: &str, cap: u64) -> Result<Option<Vec<u8>>, StoreError> {
        let got = match self.client.get(&self.path(key)).await {
            Ok(got) => got,
            Err(object_store::Error::NotFound { .. }) => return Ok(None),
            Err(e) => return Err(self.remote(key, e)),
        };
        if got.meta.size > cap {
            return Err(StoreError::TooLarge {
                object: self.name(key),
                size: got.meta.size,
                cap,
                what: "object of this kind",
            });
        }
        let bytes = got.bytes().await.map_err(|e| self.remote(key, e))?;
        Ok(Some(bytes.to_vec()))
    }

    async fn exists(&self, key: &str) -> Result<bool, StoreError> {
        match self.client.head(&self.path(key)).await {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(e) => Err(self.remote(key, e)),
        }
    }

    async fn put_create(&self, key: &str, bytes: Bytes) -> Result<Put, StoreError> {
        let options = PutOptions {
            mode: PutMode::Create,
            ..Default::default()
        };
        match self
            .client
            .put_opts(&self.path(key), PutPayload::from(bytes), options)
            .await
        {
            Ok(_) => Ok(Put::Created),
            Err(object_store::Error::AlreadyExists { .. }) => Ok(Put::Existed),
            Err(e) => Err(self.remote(key, e)),
        }
    }

    async fn put_parts(&self, key: &str, file: &std::path::Path) -> Result<Put, StoreError> {
        let upload = self
            .client
            .put_multipart(&self.path(key))
            .await
            .map_err(|e| self.remote(key, e))?;
        let mut writer = WriteMultipart::new_with_chunk_size(upload, PART_SIZE);
        let mut input =
            std::fs::File::open(file).map_err(|e| StoreError::io(file.display().to_string(), e))?;
        let mut buf = vec![0u8; PART_SIZE];
        loop {
            let n = match input.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    let _ = writer.abort().await;
                    return Err(StoreError::io(file.display().to_string(), e));
                }
            };
            // Bounds the parts in flight (and so the memory held).
            writer
                .wait_for_capacity(2)
                .await
                .map_err(|e| self.remote(key, e))?;
            writer.write(&buf[..n]);
        }
        writer.finish().await.map_err(|e| self.remote(key, e))?;
        Ok(Put::Created)
    }
}

/// Reads an object's byte stream from synchronous code.
struct Blocking {
    runtime: Arc<Runtime>,
    stream: BoxStream<'static, object_store::Result<Bytes>>,
    chunk: Bytes,
}

impl Read for Blocking {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.chunk.is_empty() {
            match self.runtime.block_on(self.stream.next()) {
                None => return Ok(0),
                Some(Ok(chunk)) => self.chunk = chunk,
                Some(Err(e)) => return Err(io::Error::other(e)),
            }
        }
        let n = buf.len().min(self.chunk.len());
        buf[..n].copy_from_slice(&self.chunk[..n]);
        self.chunk.advance(n);
        Ok(n)
    }
}

impl Backend for S3 {
    fn name(&self, key: &str) -> String {
        format!("s3://{}/{}", self.bucket, self.path(key))
    }

    fn get(&self, key: &str, cap: u64) -> Result<Option<Vec<u8>>, StoreError> {
        self.runtime.block_on(self.get_async(key, cap))
    }

    fn get_many(&self, keys: &[String], cap: u64) -> Vec<Result<Option<Vec<u8>>, StoreError>> {
        self.runtime.block_on(
            futures_util::stream::iter(keys)
                .map(|k| self.get_async(k, cap))
                .buffered(CONCURRENT_GETS)
                .collect(),
        )
    }

    fn open(&self, key: &str) -> Result<Option<Reader>, StoreError> {
        let got = match self.runtime.block_on(self.client.get(&self.path(key))) {
            Ok(got) => got,
            Err(object_store::Error::NotFound { .. }) => return Ok(None),
            Err(e) => return Err(self.remote(key, e)),
        };
        let size = got.meta.size;
        let reader = Blocking {
            runtime: Arc::clone(&self.runtime),
            stream: got.into_stream(),
            chunk: Bytes::new(),
        };
        Ok(Some((Box::new(reader), size)))
    }

    fn put_new(&self, key: &str, source: Source<'_>) -> Result<Put, StoreError> {
        self.runtime.block_on(async {
            if self.exists(key).await? {
                return Ok(Put::Existed);
            }
            match source {
                Source::Bytes(b) => self.put_create(key, Bytes::copy_from_slice(b)).await,
                Source::File(p) => {
                    let size = std::fs::metadata(p)
                        .map_err(|e| StoreError::io(p.display().to_string(), e))?
                        .len();
                    if size > self.multipart_threshold {
                        return self.put_parts(key, p).await;
                    }
                    let bytes =
                        std::fs::read(p).map_err(|e| StoreError::io(p.display().to_string(), e))?;
                    self.put_create(key, Bytes::from(bytes)).await
                }
            }
        })
    }

    fn list(&self, prefix: &str) -> Result<Vec<Listed>, StoreError> {
        let root = self.path(prefix.trim_end_matches('/'));
        let strip = if self.prefix.is_empty() {
            String::new()
        } else {
            format!("{}/", self.prefix)
        };
        let metas: Vec<_> = self
            .runtime
            .block_on(self.client.list(Some(&root)).try_collect::<Vec<_>>())
            .map_err(|e| self.remote(prefix, e))?;
        Ok(metas
            .into_iter()
            .filter_map(|m| {
                let full = m.location.to_string();
                let key = full.strip_prefix(&strip)?.to_owned();
                key.starts_with(prefix)
                    .then_some(Listed { key, size: m.size })
            })
            .collect())
    }

    fn delete(&self, key: &str) -> Result<(), StoreError> {
        match self.runtime.block_on(self.client.delete(&self.path(key))) {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(self.remote(key, e)),
        }
    }
}
