//! The `duet` command line. Every subcommand that talks to a running node
//! takes `--control PATH` (or `DUET_CONTROL`), so several nodes can run on
//! one machine.

use crate::call::{AnswerPolicy, CallConfig, Timeouts};
use crate::contacts::accept::AcceptEntry;
use crate::node::NodeConfig;
use crate::paths;
use crate::proto::DisplayName;
use clap::{Args, Parser, Subcommand};
use duet_gst::{AudioSource, Display, MediaConfig, MediaKind, Speaker, VideoCodec, VideoSource};
use libp2p::Multiaddr;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, Parser)]
#[command(
    name = "duet",
    version,
    about = "Serverless video calls on a LAN",
    long_about = "Serverless video calls on a LAN.\n\nRun `duet up` on every machine: nodes find \
                  each other with DNS-SD (mDNS) and connect with libp2p. The other \
                  subcommands talk to the local node through its control socket."
)]
pub struct Cli {
    /// Control socket of the local node [default: $XDG_RUNTIME_DIR/duet/control.sock,
    /// else /tmp/duet-<uid>/control.sock ($TMPDIR for /tmp when set)]
    #[arg(long, global = true, env = "DUET_CONTROL", value_name = "PATH")]
    pub control: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
// Parsed once per process: the size of `Up`'s options does not matter.
#[allow(clippy::large_enum_variant)]
pub enum Command {
    /// Run the node until Ctrl-C or SIGTERM, then say goodbye and exit
    Up(UpArgs),
    /// Print this node's ID (its PeerId) and display name; creates the identity if needed
    Id(IdArgs),
    /// List the peers seen on the LAN
    Peers(JsonArg),
    /// Show the local node's name, ID, listen addresses and status
    Status(JsonArg),
    /// Stream peer and call events (peer_up, peer_down, peer_changed,
    /// incoming_call, ringing, connected, call_ended, …) until interrupted
    Events(JsonArg),
    /// Call a peer by display name or PeerId (or the ID's end, as `duet peers` shows it);
    /// returns once the call is connected (exit 0) or has failed (exit code by reason)
    #[command(after_help = crate::control::exit_code::HELP)]
    Call(CallArgs),
    /// Answer the incoming call
    Answer,
    /// Decline the incoming call
    Reject,
    /// End the current call (or cancel a call that is still ringing)
    Hangup,
    /// List cameras, microphones and speakers, with the DEVICE strings
    /// `duet up --video|--audio|--speaker` take (needs no running node)
    Devices(JsonArg),
    /// Stop sending sound (`audio`: silence) or picture (`video`: black) in
    /// the current call; the peer is told
    Mute(MuteArgs),
    /// Send sound or picture again after `duet mute`
    Unmute(MuteArgs),
    /// Set this node's status: `available`, or `dnd` (do not disturb: calls get `busy`)
    SetStatus(SetStatusArgs),
    /// List, add or remove contacts: names pinned to the PeerId they were
    /// first seen with (used by --accept-from NAME)
    Contacts(ContactsArgs),
    /// Run a broker: introduces nodes across subnets (see docs/broker.md)
    Broker(crate::broker::cli::BrokerArgs),
    /// Manage network keys (admission to a broker)
    #[command(subcommand)]
    NetworkKey(crate::broker::cli::NetworkKeyCommand),
}

#[derive(Debug, Args)]
pub struct SetStatusArgs {
    pub status: UserStatus,
}

/// The statuses a user may choose.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum UserStatus {
    Available,
    Dnd,
}

impl From<UserStatus> for crate::proto::Status {
    fn from(s: UserStatus) -> Self {
        match s {
            UserStatus::Available => crate::proto::Status::Available,
            UserStatus::Dnd => crate::proto::Status::Dnd,
        }
    }
}

#[derive(Debug, Args)]
pub struct ContactsArgs {
    #[command(subcommand)]
    pub action: Option<ContactsAction>,

    /// Where the contacts are kept [default: $XDG_DATA_HOME/duet or ~/.local/share/duet]
    #[arg(long, value_name = "DIR", global = true)]
    pub data_dir: Option<PathBuf>,

    /// Print JSON: [{"name": ..., "peer_id": ...}]
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum ContactsAction {
    /// Pin NAME to PEERID (replacing the key it was first seen with)
    Add { name: String, peer_id: String },
    /// Forget NAME (the next peer seen with it is pinned)
    Remove { name: String },
}

#[derive(Debug, Args)]
pub struct MuteArgs {
    /// What to mute: `audio` (the microphone) or `video` (the camera)
    #[arg(value_name = "audio|video")]
    pub kind: MediaKind,
}

#[derive(Debug, Args)]
pub struct CallArgs {
    /// Who to call: a display name, a PeerId, or the end of one
    pub target: String,

    /// Print the node's JSON reply (the call, or the error and its reason)
    #[arg(long)]
    pub json: bool,

    /// Hold the connected call this long, then hang up and exit 0 (e.g. 30,
    /// 30s, 2m); a call that ends sooner exits 9 (ended early)
    #[arg(long = "for", value_name = "DURATION", value_parser = crate::control::exit_code::parse_duration)]
    pub hold: Option<std::time::Duration>,

    /// Wait up to this long for the target to be listed instead of failing at once
    #[arg(long, value_name = "SECONDS", value_parser = crate::control::exit_code::parse_duration)]
    pub wait_for_peer: Option<std::time::Duration>,

    /// Give up (hang up, exit 6) if the call is not connected within this
    /// long, waiting for the peer included
    #[arg(long, value_name = "SECONDS", value_parser = crate::control::exit_code::parse_duration)]
    pub timeout: Option<std::time::Duration>,
}

#[derive(Debug, Args)]
pub struct UpArgs {
    /// Display name shown to others (a label, not an identity) [default: host name]
    #[arg(long)]
    pub name: Option<String>,

    /// Where the identity key is kept [default: $XDG_DATA_HOME/duet or ~/.local/share/duet]
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,

    /// Limit mDNS (DNS-SD) to this interface; repeat for several [default: all interfaces]
    #[arg(long = "interface", value_name = "IFACE")]
    pub interfaces: Vec<String>,

    /// libp2p listen address; repeat for several
    /// [default: /ip4/0.0.0.0/tcp/0 and /ip4/0.0.0.0/udp/0/quic-v1]
    #[arg(long = "listen", value_name = "MULTIADDR")]
    pub listen: Vec<Multiaddr>,

    /// Neither announce this node nor look for others with mDNS
    #[arg(long)]
    pub no_mdns: bool,

    /// A broker to register at and find nodes on other subnets through, as
    /// printed by `duet broker` (e.g. /ip4/10.0.0.5/tcp/7170/ws/p2p/12D3…); repeat for several
    #[arg(long = "broker", value_name = "MULTIADDR")]
    pub brokers: Vec<Multiaddr>,

    /// The network key that admits this node at brokers (see `duet network-key new`)
    #[arg(long, value_name = "FILE")]
    pub network_key: Option<PathBuf>,

    /// Camera: `auto` (the default camera), a V4L2 device such as /dev/video0,
    /// `test` (a moving test pattern) or `none` (send no video)
    #[arg(long, default_value = "auto", value_name = "test|auto|none|DEVICE")]
    pub video: VideoSource,

    /// Microphone: `auto`, a device as `duet devices` lists it (ALSA such as
    /// hw:1,0, or pulse:NAME), `test` (a tone) or `none`
    #[arg(long, default_value = "auto", value_name = "test|auto|none|DEVICE")]
    pub audio: AudioSource,

    /// Speaker for the remote sound (with --display window): `auto`, `none`
    /// (not played), or a device as `duet devices` lists it
    #[arg(long, default_value = "auto", value_name = "auto|none|DEVICE")]
    pub speaker: Speaker,

    /// Where remote video goes: one call `window` (with a local preview; needs a display),
    /// `fullscreen` (that window covering the screen, cursor hidden; for screens and kiosks)
    /// or `none` (received and counted, not shown; audio not played)
    #[arg(long, default_value = "window", value_name = "window|fullscreen|none")]
    pub display: Display,

    /// Video codec offered and sent
    #[arg(long, default_value = "vp8", value_name = "vp8|h264")]
    pub codec: VideoCodec,

    /// Forward error correction on the sent video: `ulpfec+copies` (ULPFEC in
    /// RED, 20 % overhead, and media twice while loss is seen), `ulpfec`
    /// (FEC instead of media twice), `ulpfec:PERCENT`, or `off` (lost packets
    /// are only asked for again, and media goes twice under loss; 12–21 %
    /// less bitrate). Used when the peer offers or accepts it too
    #[arg(
        long,
        default_value = "ulpfec+copies",
        value_name = "off|ulpfec[:PERCENT][+copies]"
    )]
    pub video_fec: duet_gst::VideoFec,

    /// Size of the sent video at 30 fps: 640x480, 1280x720, 1920x1080 (or
    /// 480p, 720p, 1080p); the bitrate follows it. Each side sends its own
    #[arg(long, default_value = "640x480", value_name = "WIDTHxHEIGHT")]
    pub resolution: duet_gst::Resolution,

    /// Seconds an unanswered call rings before it ends as `timeout`
    #[arg(long, default_value_t = 30.0, value_name = "SECONDS")]
    pub ring_timeout: f64,

    /// Answer calls at once, from the callers of --accept-from only (kiosks)
    #[arg(long)]
    pub auto_answer: bool,

    /// Who may be auto-answered: a name (pinned to the PeerId it was first
    /// seen with), a PeerId, web:NAME, or `any`; repeat for several
    #[arg(long = "accept-from", value_name = "NAME|PEERID|web:NAME|any")]
    pub accept_from: Vec<AcceptEntry>,

    /// Decline callers not on --accept-from with `not-allowed` instead of ringing
    #[arg(long)]
    pub reject_others: bool,

    /// Record each call's remote audio and video, as received (no
    /// re-encoding), to DIR/<date>-<peer>.mkv
    #[arg(long, value_name = "DIR")]
    pub record: Option<PathBuf>,

    /// No ringing sounds (ringback while calling, ringtone on an incoming call)
    #[arg(long)]
    pub quiet: bool,

    /// Do not read commands from the terminal (by default `duet up` in a
    /// terminal shows peers and calls and takes typed commands)
    #[arg(long)]
    pub no_console: bool,

    /// Read options from this TOML file (its `[up]` table) [default:
    /// $XDG_CONFIG_HOME/duet/config.toml if it exists]; command-line options override it
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Print the effective settings (config file and options merged) as a
    /// config file, and exit
    #[arg(long)]
    pub print_config: bool,

    /// Stamp sent frames and measure glass-to-glass latency of received ones
    /// (benchmarks; both nodes must use it, on one machine)
    #[arg(long, hide = true)]
    pub latency_probe: bool,
}

impl UpArgs {
    pub fn into_config(self, control: PathBuf) -> anyhow::Result<NodeConfig> {
        let name = DisplayName::new(self.name.unwrap_or_else(paths::default_name))?;
        let listen = if self.listen.is_empty() {
            default_listen()
        } else {
            self.listen
        };
        if !(self.ring_timeout.is_finite() && (0.1..=3600.0).contains(&self.ring_timeout)) {
            anyhow::bail!("--ring-timeout must be between 0.1 and 3600 seconds");
        }
        if (self.auto_answer || self.reject_others) && self.accept_from.is_empty() {
            anyhow::bail!(
                "--auto-answer and --reject-others need --accept-from NAME|PEERID|web:NAME \
                 (repeatable), or --accept-from any to answer everyone"
            );
        }
        let media = MediaConfig {
            video: self.video,
            audio: self.audio,
            speaker: self.speaker,
            display: self.display,
            codec: self.codec,
            video_fec: self.video_fec,
            latency_probe: self.latency_probe,
            // A call whose peer went silent ends within a few seconds. Not
            // less: a busy machine (a kiosk's small CPU, a window composing
            // 30 fps) can leave its sending a few seconds late, and a peer
            // that really vanished usually says so sooner (RTCP BYE, its
            // libp2p connection closing).
            media_timeout: Duration::from_secs(5),
            ..MediaConfig::default()
        }
        .with_resolution(self.resolution);
        Ok(NodeConfig {
            name,
            data_dir: self.data_dir.unwrap_or_else(paths::default_data_dir),
            control,
            interfaces: self.interfaces,
            listen,
            mdns: !self.no_mdns,
            brokers: self.brokers,
            network_key: self
                .network_key
                .as_deref()
                .map(crate::network_key::NetworkKey::load)
                .transpose()?,
            call: CallConfig {
                media,
                timeouts: Timeouts {
                    ring: Duration::from_secs_f64(self.ring_timeout),
                    ..Timeouts::default()
                },
                record_dir: self.record,
                policy: AnswerPolicy {
                    auto_answer: self.auto_answer,
                    reject_others: self.reject_others,
                },
                quiet: self.quiet,
            },
            accept_from: self.accept_from,
            console: !self.no_console && std::io::stdin().is_terminal(),
        })
    }
}

pub fn default_listen() -> Vec<Multiaddr> {
    ["/ip4/0.0.0.0/tcp/0", "/ip4/0.0.0.0/udp/0/quic-v1"]
        .iter()
        .filter_map(|a| a.parse().ok())
        .collect()
}

#[derive(Debug, Args)]
pub struct IdArgs {
    /// Where the identity key is kept [default: $XDG_DATA_HOME/duet or ~/.local/share/duet]
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,

    /// Print JSON: {"peer_id": ..., "name": ...}
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct JsonArg {
    /// Print JSON instead of a table
    #[arg(long)]
    pub json: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn up_defaults_listen_on_tcp_and_quic() {
        let cli = Cli::try_parse_from(["duet", "up", "--name", "bob"]);
        let Ok(Cli {
            command: Command::Up(args),
            ..
        }) = cli
        else {
            unreachable!("parse failed")
        };
        let config = args.into_config(PathBuf::from("/tmp/x.sock"));
        assert!(config.is_ok());
        if let Ok(c) = config {
            assert_eq!(c.listen.len(), 2);
            assert!(c.mdns);
        }
    }
}
