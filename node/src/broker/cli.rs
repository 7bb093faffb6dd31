//! The command-line arguments of `duet broker` and `duet network-key`.

use super::{BrokerConfig, TtlRange, DEFAULT_LISTEN};
use crate::network_key::NetworkKey;
use crate::paths;
use clap::{Args, Subcommand};
use libp2p::Multiaddr;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, Args)]
pub struct BrokerArgs {
    /// Where the broker's identity key is kept (its PeerId stays the same across restarts)
    /// [default: $XDG_DATA_HOME/duet or ~/.local/share/duet]
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,

    /// libp2p listen address; repeat for several
    /// [default: /ip4/0.0.0.0/tcp/7170/ws, /ip4/0.0.0.0/tcp/7171, /ip4/0.0.0.0/udp/7171/quic-v1]
    #[arg(long = "listen", value_name = "MULTIADDR")]
    pub listen: Vec<Multiaddr>,

    /// Admit only nodes holding this network key (see `duet network-key new`);
    /// without it the broker is open to any node that reaches it
    #[arg(long, value_name = "FILE")]
    pub network_key: Option<PathBuf>,

    /// Shortest registration a node may ask for, in seconds: a node that vanished without
    /// a word stops being handed out at most this long after its last refresh
    #[arg(long, default_value_t = 10, value_name = "SECONDS")]
    pub min_ttl: u64,

    /// Longest registration a node may ask for, in seconds
    #[arg(long, default_value_t = 60, value_name = "SECONDS")]
    pub max_ttl: u64,

    #[command(flatten)]
    pub web: super::web_cli::WebArgs,

    #[command(subcommand)]
    pub command: Option<super::web_cli::BrokerCommand>,

    /// STUN/TURN server address (UDP) for media that cannot go direct; `none` turns it off
    #[arg(long, default_value = super::DEFAULT_TURN_LISTEN, value_name = "ADDR:PORT|none")]
    pub turn_listen: String,

    /// The address nodes send relayed media to, when --turn-listen names none
    /// [default: the host's first non-loopback IPv4 address]
    #[arg(long, value_name = "IP")]
    pub turn_relay_ip: Option<std::net::IpAddr>,
}

impl BrokerArgs {
    pub fn into_config(self) -> anyhow::Result<BrokerConfig> {
        let listen = if self.listen.is_empty() {
            DEFAULT_LISTEN
                .iter()
                .filter_map(|a| a.parse().ok())
                .collect()
        } else {
            self.listen
        };
        if self.min_ttl == 0 || self.min_ttl > self.max_ttl {
            anyhow::bail!("--min-ttl must be at least 1 and at most --max-ttl");
        }
        let network_key = self
            .network_key
            .as_deref()
            .map(NetworkKey::load)
            .transpose()?;
        let data_dir = self.data_dir.unwrap_or_else(paths::default_data_dir);
        let web = self.web.into_config(&data_dir, network_key.as_ref())?;
        let turn_listen = match self.turn_listen.as_str() {
            "none" | "off" => None,
            a => Some(a.parse().map_err(|e| {
                anyhow::anyhow!("--turn-listen {a}: expected ADDR:PORT or none ({e})")
            })?),
        };
        Ok(BrokerConfig {
            web,
            turn_listen,
            turn_relay_ip: self.turn_relay_ip,
            data_dir,
            listen,
            network_key,
            ttl: TtlRange {
                min: Duration::from_secs(self.min_ttl),
                max: Duration::from_secs(self.max_ttl),
            },
        })
    }
}

#[derive(Debug, Subcommand)]
pub enum NetworkKeyCommand {
    /// Write a new random network key to FILE (mode 0600; never overwrites)
    New {
        #[arg(value_name = "FILE")]
        file: PathBuf,
    },
}

impl NetworkKeyCommand {
    pub fn run(self) -> anyhow::Result<()> {
        match self {
            Self::New { file } => {
                NetworkKey::create(&file)?;
                println!(
                    "wrote a new network key to {}; give it to the broker and every node \
                     with --network-key",
                    file.display()
                );
                Ok(())
            }
        }
    }
}
