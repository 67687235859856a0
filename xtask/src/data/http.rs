//! HTTP downloads (blocking `ureq`, rustls): a pinned GitHub file at
//! `{base}/{owner}/{repo}/{commit}/{path}`, read into memory (every source file is under 4 MiB).

use std::io::Read;
use std::time::Duration;

use anyhow::{bail, Result};
use indicatif::ProgressBar;

use super::digest::sha256_hex;
use super::manifest::{Pinned, Remote};
use super::progress;

/// How many times a download is tried.
pub const ATTEMPTS: u32 = 3;

/// Downloads files from one base URL.
pub struct Downloader {
    agent: ureq::Agent,
    base: String,
    /// Half the wait before the first retry (1 s; the tests shorten it).
    retry_delay: Duration,
}

impl Downloader {
    /// A downloader for `base` (`https://raw.githubusercontent.com` or a mirror with the same
    /// paths). The proxy comes from the environment (`HTTPS_PROXY`, `NO_PROXY`), except for a
    /// loopback base, which is always reached directly.
    pub fn new(base: &str) -> Self {
        let loopback = ["http://127.0.0.1", "http://localhost", "http://[::1]"]
            .iter()
            .any(|prefix| base.starts_with(prefix));
        let mut config = ureq::Agent::config_builder()
            .timeout_connect(Some(Duration::from_secs(30)))
            .timeout_global(Some(Duration::from_secs(600)))
            .user_agent("hashformers-xtask-data");
        if loopback {
            config = config.proxy(None);
        }
        Self {
            agent: config.build().into(),
            base: base.trim_end_matches('/').to_string(),
            retry_delay: Duration::from_secs(1),
        }
    }

    /// The URL of `remote`.
    pub fn url(&self, remote: &Remote) -> String {
        remote.url(&self.base)
    }

    /// Downloads `remote`; with a `label`, a progress bar shows the transfer. A network error, a
    /// 5xx or 429 status, or a short body is retried ([`ATTEMPTS`] tries in all, waiting 2 s, 4 s).
    ///
    /// # Errors
    /// When the last try fails, or at once on another non-2xx status (404: wrong path or commit).
    pub fn get(&self, remote: &Remote, label: Option<&str>) -> Result<Vec<u8>> {
        let url = self.url(remote);
        let mut attempt = 1;
        loop {
            match self.try_get(&url, label) {
                Ok(bytes) => return Ok(bytes),
                Err((err, true)) if attempt < ATTEMPTS => {
                    eprintln!("{err:#}; retrying");
                    std::thread::sleep(self.retry_delay * (1 << attempt));
                    attempt += 1;
                }
                Err((err, _)) => return Err(err),
            }
        }
    }

    /// One try: the body, or the error and whether it is worth retrying.
    fn try_get(&self, url: &str, label: Option<&str>) -> Result<Vec<u8>, (anyhow::Error, bool)> {
        let mut response = self.agent.get(url).call().map_err(|err| {
            let retry = match err {
                ureq::Error::StatusCode(code) => code == 429 || code >= 500,
                _ => true,
            };
            (anyhow::Error::new(err).context(format!("GET {url}")), retry)
        })?;
        let len = response.body().content_length();
        let bar = match label {
            Some(label) => progress::bytes(len.unwrap_or(0), label),
            None => ProgressBar::hidden(),
        };
        let mut bytes = Vec::with_capacity(usize::try_from(len.unwrap_or(0)).unwrap_or(0));
        let read = bar
            .wrap_read(response.body_mut().as_reader())
            .read_to_end(&mut bytes);
        bar.finish_and_clear();
        if let Err(err) = read {
            return Err((
                anyhow::Error::new(err).context(format!("reading {url}")),
                true,
            ));
        }
        if let Some(len) = len.filter(|&len| len != bytes.len() as u64) {
            let err = anyhow::anyhow!(
                "{url}: got {} bytes, Content-Length said {len}",
                bytes.len()
            );
            return Err((err, true));
        }
        Ok(bytes)
    }

    /// Downloads `pinned` and checks its sha256.
    ///
    /// # Errors
    /// As [`Downloader::get`], and when the sha256 differs from the pinned one.
    pub fn get_pinned(&self, pinned: &Pinned, label: Option<&str>) -> Result<Vec<u8>> {
        let bytes = self.get(&pinned.remote, label)?;
        let actual = sha256_hex(&bytes);
        if actual != pinned.sha256 {
            bail!(
                "{}: sha256 {actual}, expected {} (the source changed or the mirror is wrong)",
                self.url(&pinned.remote),
                pinned.sha256
            );
        }
        Ok(bytes)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::{Downloader, ATTEMPTS};
    use crate::data::manifest::Remote;
    use crate::data::test_server::TestServer;

    #[test]
    fn server_errors_are_retried_and_404_is_not() {
        let server = TestServer::start(vec![("/o/r/c/a".into(), b"a".to_vec())]);
        let mut dl = Downloader::new(&server.base);
        dl.retry_delay = Duration::ZERO;
        let remote = |path| Remote {
            repo: "o/r",
            commit: "c",
            path,
        };
        assert_eq!(dl.get(&remote("a"), None).unwrap(), b"a");
        let err = dl.get(&remote("missing"), None).unwrap_err();
        assert!(format!("{err:#}").contains("404"), "{err:#}");
        assert_eq!(server.requests(), ["/o/r/c/a", "/o/r/c/missing"]);
        let err = dl.get(&remote("status/503"), None).unwrap_err();
        assert!(format!("{err:#}").contains("503"), "{err:#}");
        assert_eq!(server.requests().len(), 2 + ATTEMPTS as usize);
    }
}
