//! The nginx configuration a guest's web server runs with.
//!
//! nginx runs from the host root (Debian's nginx-light), in the foreground
//! (`daemon off`), with everything it writes (pid, error log, temp folders)
//! under one state folder, no access log, and the file set folder as its
//! root. See /work/shared/recipes/guest-network.md.

use std::io;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Temp folders nginx checks at start even when it never proxies.
/// (directive, folder under `STATE/tmp`).
const TEMP_DIRS: [(&str, &str); 5] = [
    ("client_body_temp_path", "body"),
    ("proxy_temp_path", "proxy"),
    ("fastcgi_temp_path", "fastcgi"),
    ("uwsgi_temp_path", "uwsgi"),
    ("scgi_temp_path", "scgi"),
];

/// Where nginx listens and what it serves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NginxConfig {
    pub listen: SocketAddr,
    /// Folder served as `/`.
    pub root: PathBuf,
    /// Folder for the config, pid, error log and temp folders.
    pub state_dir: PathBuf,
    /// `user` directive: workers run as this user. `Some("root")` when the
    /// root folder is private to root (a tempdir); `None` leaves nginx's
    /// default.
    pub user: Option<String>,
    pub worker_processes: u32,
}

/// A path nginx's config syntax cannot carry as is.
#[derive(Debug, thiserror::Error)]
pub enum NginxError {
    #[error("path {0} holds characters nginx's config would misread (quotes, $, ;, braces, control or non-UTF-8)")]
    Path(PathBuf),
    #[error("cannot write nginx config into {dir}: {source}")]
    Write {
        dir: PathBuf,
        #[source]
        source: io::Error,
    },
}

impl NginxConfig {
    /// A config with one worker, running workers as root when this process
    /// is root (so a root-only tempdir is readable).
    pub fn new(listen: SocketAddr, root: &Path, state_dir: &Path) -> NginxConfig {
        NginxConfig {
            listen,
            root: root.to_path_buf(),
            state_dir: state_dir.to_path_buf(),
            user: running_as_root().then(|| "root".to_string()),
            worker_processes: 1,
        }
    }

    pub fn conf_path(&self) -> PathBuf {
        self.state_dir.join("nginx.conf")
    }

    pub fn pid_path(&self) -> PathBuf {
        self.state_dir.join("nginx.pid")
    }

    pub fn error_log_path(&self) -> PathBuf {
        self.state_dir.join("error.log")
    }

    /// The config text.
    pub fn render(&self) -> Result<String, NginxError> {
        let root = quoted(&self.root)?;
        let pid = quoted(&self.pid_path())?;
        let error_log = quoted(&self.error_log_path())?;
        let mut s = String::new();
        s.push_str("# Written by benchvm collect (isolation experiment).\n");
        s.push_str("daemon off;\nmaster_process on;\n");
        if let Some(user) = &self.user {
            s.push_str(&format!("user {user};\n"));
        }
        s.push_str(&format!(
            "worker_processes {};\npid {pid};\nerror_log {error_log} warn;\n\n",
            self.worker_processes.max(1)
        ));
        s.push_str("events {\n    worker_connections 1024;\n}\n\nhttp {\n");
        s.push_str("    access_log off;\n    sendfile on;\n    tcp_nopush on;\n");
        s.push_str("    default_type application/octet-stream;\n");
        for (directive, dir) in TEMP_DIRS {
            let path = quoted(&self.state_dir.join("tmp").join(dir))?;
            s.push_str(&format!("    {directive} {path};\n"));
        }
        s.push_str(&format!(
            "\n    server {{\n        listen {};\n        server_name _;\n        root {root};\n        location / {{\n        }}\n    }}\n}}\n",
            self.listen
        ));
        Ok(s)
    }

    /// Creates the state and temp folders and writes the config; returns
    /// its path.
    pub fn write(&self) -> Result<PathBuf, NginxError> {
        let text = self.render()?;
        let wrap = |source| NginxError::Write {
            dir: self.state_dir.clone(),
            source,
        };
        for (_, d) in TEMP_DIRS {
            std::fs::create_dir_all(self.state_dir.join("tmp").join(d)).map_err(wrap)?;
        }
        let path = self.conf_path();
        std::fs::write(&path, text).map_err(wrap)?;
        Ok(path)
    }

    /// `nginx -p STATE -e ERROR_LOG -c CONF`: the prefix and the early error
    /// log point into the state folder too, so nginx never touches
    /// /var/log/nginx or /etc/nginx.
    pub fn command(&self) -> Command {
        let mut cmd = Command::new("nginx");
        cmd.arg("-p")
            .arg(&self.state_dir)
            .arg("-e")
            .arg(self.error_log_path())
            .arg("-c")
            .arg(self.conf_path());
        cmd
    }
}

/// Whether this process runs as root: /proc/self belongs to the effective
/// user.
fn running_as_root() -> bool {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

/// `"path"`, refusing what nginx would read differently.
fn quoted(path: &Path) -> Result<String, NginxError> {
    let s = path
        .to_str()
        .ok_or_else(|| NginxError::Path(path.to_path_buf()))?;
    let bad = |c: char| c.is_control() || matches!(c, '"' | '\\' | '$' | ';' | '{' | '}');
    if s.is_empty() || s.chars().any(bad) {
        return Err(NginxError::Path(path.to_path_buf()));
    }
    Ok(format!("\"{s}\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> NginxConfig {
        NginxConfig {
            listen: "10.77.0.2:8080".parse().expect("addr"),
            root: "/tmp/www".into(),
            state_dir: "/tmp/nginx".into(),
            user: None,
            worker_processes: 1,
        }
    }

    #[test]
    fn renders_the_recipe_settings() {
        let text = config().render().expect("render");
        for needle in [
            "daemon off;",
            "pid \"/tmp/nginx/nginx.pid\";",
            "error_log \"/tmp/nginx/error.log\" warn;",
            "access_log off;",
            "listen 10.77.0.2:8080;",
            "root \"/tmp/www\";",
            "client_body_temp_path \"/tmp/nginx/tmp/body\";",
            "scgi_temp_path \"/tmp/nginx/tmp/scgi\";",
        ] {
            assert!(text.contains(needle), "missing {needle:?} in\n{text}");
        }
        assert!(!text.contains("user "));
        assert_eq!(text.matches('{').count(), text.matches('}').count());
    }

    #[test]
    fn refuses_paths_nginx_would_misread() {
        let mut c = config();
        c.root = "/tmp/$www".into();
        assert!(matches!(c.render(), Err(NginxError::Path(_))));
        c.root = "/tmp/a\"b".into();
        assert!(c.render().is_err());
    }
}
