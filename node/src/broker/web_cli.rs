//! The web endpoint's arguments of `duet broker` (`--web`, `--tls-cert`,
//! `--tls-key`) and `duet broker invite`, kept apart from the libp2p ones.

use super::web::{self, CertSource, WebConfig, DEFAULT_WEB};
use crate::network_key::NetworkKey;
use crate::paths;
use clap::{Args, Subcommand};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

#[derive(Debug, Args)]
pub struct WebArgs {
    /// Where to serve the browser page and its WebSocket (HTTPS), or `none`
    #[arg(long = "web", default_value = DEFAULT_WEB, value_name = "ADDR:PORT|none")]
    pub web: String,

    /// The web endpoint's certificate chain (PEM) [default: a self-signed one
    /// kept in the data dir]
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,

    /// The private key of --tls-cert (PEM)
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
}

fn parse_web(web: &str) -> anyhow::Result<Option<SocketAddr>> {
    if web == "none" {
        return Ok(None);
    }
    web.parse()
        .map(Some)
        .map_err(|_| anyhow::anyhow!("--web must be ADDR:PORT (e.g. {DEFAULT_WEB}) or none"))
}

impl WebArgs {
    pub fn into_config(
        self,
        data_dir: &Path,
        network_key: Option<&NetworkKey>,
    ) -> anyhow::Result<Option<WebConfig>> {
        let Some(listen) = parse_web(&self.web)? else {
            return Ok(None);
        };
        let cert = match (self.tls_cert, self.tls_key) {
            (Some(cert), Some(key)) => CertSource::Files { cert, key },
            _ => CertSource::DataDir(data_dir.to_path_buf()),
        };
        Ok(Some(WebConfig {
            listen,
            cert,
            network_key: network_key.cloned(),
        }))
    }
}

#[derive(Debug, Subcommand)]
pub enum BrokerCommand {
    /// Print a link to the broker's web page carrying an invite (needed when
    /// the broker has a network key)
    Invite(InviteArgs),
}

#[derive(Debug, Args)]
pub struct InviteArgs {
    /// The broker's data dir (to print its web certificate's fingerprint)
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,

    /// The broker's network key
    #[arg(long, value_name = "FILE")]
    pub network_key: Option<PathBuf>,

    /// How long the invite is valid, in hours
    #[arg(long, default_value_t = 24, value_name = "HOURS")]
    pub valid: u64,

    /// The broker's --web address (the link uses this host's addresses when
    /// it is unspecified)
    #[arg(long = "web", default_value = DEFAULT_WEB, value_name = "ADDR:PORT")]
    pub web: String,
}

impl BrokerCommand {
    pub fn run(self) -> anyhow::Result<()> {
        match self {
            Self::Invite(args) => invite(args),
        }
    }
}

fn invite(args: InviteArgs) -> anyhow::Result<()> {
    let key = args
        .network_key
        .as_deref()
        .map(NetworkKey::load)
        .transpose()?;
    let Some(listen) = parse_web(&args.web)? else {
        anyhow::bail!("--web none: there is no web page to invite to");
    };
    if args.valid == 0 || args.valid > 24 * 366 {
        anyhow::bail!("--valid must be 1 to 8784 hours");
    }
    let valid = Duration::from_secs(args.valid * 3600);
    if key.is_none() {
        eprintln!("no --network-key: the broker's web page is open and needs no invite");
    }
    for host in web::hosts(listen) {
        println!(
            "{}",
            web::page_url(host, listen.port(), key.as_ref(), valid)
        );
    }
    let data_dir = args.data_dir.unwrap_or_else(paths::default_data_dir);
    let cert = data_dir.join(web::tls::CERT_FILE);
    if let Ok(fp) = web::tls::file_fingerprint(&cert) {
        println!("certificate sha256 {fp}");
    }
    Ok(())
}
