//! The config file of `duet up`: TOML at `$XDG_CONFIG_HOME/duet/config.toml`
//! (else `~/.config/duet/config.toml`) or `--config FILE`. Its `[up]` table
//! holds any `duet up` option under the option's own name (`name`,
//! `accept-from`, `ring-timeout`, …); lists (`interface`, `listen`,
//! `accept-from`) are arrays. Options given on the command line override it.
//! Other tables (a future `[broker]`) sit next to `[up]`. An unknown key or a
//! bad value is an error naming the file and line, so a kiosk does not start
//! half-configured.

use crate::cli::UpArgs;
use crate::contacts::accept::AcceptEntry;
use crate::proto::DisplayName;
use duet_gst::{AudioSource, Display, VideoCodec, VideoSource};
use libp2p::Multiaddr;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use toml::Spanned;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("config file {}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}:{line}: {message}", path.display())]
    Bad {
        path: PathBuf,
        line: usize,
        message: String,
    },
}

/// `[up]` as written: values keep their place in the file for errors.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawUp {
    name: Option<Spanned<String>>,
    data_dir: Option<PathBuf>,
    interface: Option<Vec<String>>,
    listen: Option<Vec<Spanned<String>>>,
    no_mdns: Option<bool>,
    video: Option<Spanned<String>>,
    audio: Option<Spanned<String>>,
    display: Option<Spanned<String>>,
    codec: Option<Spanned<String>>,
    video_fec: Option<Spanned<String>>,
    resolution: Option<Spanned<String>>,
    ring_timeout: Option<Spanned<f64>>,
    auto_answer: Option<bool>,
    accept_from: Option<Vec<Spanned<String>>>,
    reject_others: Option<bool>,
    no_console: Option<bool>,
    record: Option<PathBuf>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    up: RawUp,
}

/// The `[up]` settings of a config file, checked.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct UpSettings {
    pub name: Option<String>,
    pub data_dir: Option<PathBuf>,
    pub interfaces: Option<Vec<String>>,
    pub listen: Option<Vec<Multiaddr>>,
    pub no_mdns: Option<bool>,
    pub video: Option<VideoSource>,
    pub audio: Option<AudioSource>,
    pub display: Option<Display>,
    pub codec: Option<VideoCodec>,
    pub video_fec: Option<duet_gst::VideoFec>,
    pub resolution: Option<duet_gst::Resolution>,
    pub ring_timeout: Option<f64>,
    pub auto_answer: Option<bool>,
    pub accept_from: Option<Vec<AcceptEntry>>,
    pub reject_others: Option<bool>,
    pub no_console: Option<bool>,
    pub record: Option<PathBuf>,
}

/// The default place: `$XDG_CONFIG_HOME/duet/config.toml`, else
/// `~/.config/duet/config.toml`.
pub fn default_path() -> Option<PathBuf> {
    let env = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty());
    env("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .or_else(|| env("HOME").map(|h| PathBuf::from(h).join(".config")))
        .map(|d| d.join("duet/config.toml"))
}

/// Reads `explicit` (which must exist), else the default file if there is
/// one. `None`: no config file.
pub fn load(explicit: Option<&Path>) -> Result<Option<(PathBuf, UpSettings)>, ConfigError> {
    let path = match explicit {
        Some(p) => p.to_path_buf(),
        None => match default_path().filter(|p| p.exists()) {
            Some(p) => p,
            None => return Ok(None),
        },
    };
    let text = std::fs::read_to_string(&path).map_err(|source| ConfigError::Io {
        path: path.clone(),
        source,
    })?;
    let settings = parse(&text).map_err(|(line, message)| ConfigError::Bad {
        path: path.clone(),
        line,
        message,
    })?;
    Ok(Some((path, settings)))
}

/// Parses a config file's text; an error is (line, message).
pub fn parse(text: &str) -> Result<UpSettings, (usize, String)> {
    let line_of = |at: usize| text[..at.min(text.len())].matches('\n').count() + 1;
    let raw: RawFile = toml::from_str(text).map_err(|e| {
        let line = e.span().map(|s| line_of(s.start)).unwrap_or(1);
        (line, e.message().trim().to_string())
    })?;
    let up = raw.up;
    fn typed<T: FromStr>(
        v: Option<Spanned<String>>,
        key: &str,
        line_of: &impl Fn(usize) -> usize,
    ) -> Result<Option<T>, (usize, String)>
    where
        T::Err: std::fmt::Display,
    {
        v.map(|s| {
            s.get_ref()
                .parse::<T>()
                .map_err(|e| (line_of(s.span().start), format!("bad {key}: {e}")))
        })
        .transpose()
    }
    fn list<T: FromStr>(
        v: Option<Vec<Spanned<String>>>,
        key: &str,
        line_of: &impl Fn(usize) -> usize,
    ) -> Result<Option<Vec<T>>, (usize, String)>
    where
        T::Err: std::fmt::Display,
    {
        v.map(|items| {
            items
                .into_iter()
                .map(|s| {
                    let line = line_of(s.span().start);
                    s.into_inner()
                        .parse::<T>()
                        .map_err(|e| (line, format!("bad {key}: {e}")))
                })
                .collect::<Result<Vec<T>, _>>()
        })
        .transpose()
    }
    if let Some(n) = &up.name {
        DisplayName::new(n.get_ref().as_str())
            .map_err(|e| (line_of(n.span().start), format!("bad name: {e}")))?;
    }
    if let Some(t) = &up.ring_timeout {
        if !(t.get_ref().is_finite() && (0.1..=3600.0).contains(t.get_ref())) {
            let msg = "ring-timeout must be between 0.1 and 3600 seconds";
            return Err((line_of(t.span().start), msg.into()));
        }
    }
    Ok(UpSettings {
        name: up.name.map(Spanned::into_inner),
        data_dir: up.data_dir,
        interfaces: up.interface,
        listen: list(up.listen, "listen", &line_of)?,
        no_mdns: up.no_mdns,
        video: typed(up.video, "video", &line_of)?,
        audio: typed(up.audio, "audio", &line_of)?,
        display: typed(up.display, "display", &line_of)?,
        codec: typed(up.codec, "codec", &line_of)?,
        video_fec: typed(up.video_fec, "video-fec", &line_of)?,
        resolution: typed(up.resolution, "resolution", &line_of)?,
        ring_timeout: up.ring_timeout.map(Spanned::into_inner),
        auto_answer: up.auto_answer,
        accept_from: list(up.accept_from, "accept-from", &line_of)?,
        reject_others: up.reject_others,
        no_console: up.no_console,
        record: up.record,
    })
}

/// Reads the config file (`--config`, else the default one if it exists)
/// into `args`, under the options given on the command line (`matches`:
/// those of `duet up`).
pub fn merge(args: &mut UpArgs, matches: &clap::ArgMatches) -> Result<(), ConfigError> {
    if let Some((path, file)) = load(args.config.as_deref())? {
        apply(file, args, |id| {
            matches.value_source(id) == Some(clap::parser::ValueSource::CommandLine)
        });
        tracing::info!("config file: {}", path.display());
    }
    Ok(())
}

/// Fills in `args` from `file` where the command line said nothing;
/// `on_command_line(id)` tells whether option `id` (clap's id: the field
/// name) was given there.
pub fn apply(file: UpSettings, args: &mut UpArgs, on_command_line: impl Fn(&str) -> bool) {
    macro_rules! take {
        ($field:ident, $value:expr) => {
            if !on_command_line(stringify!($field)) {
                if let Some(v) = $value {
                    args.$field = v;
                }
            }
        };
    }
    take!(name, file.name.map(Some));
    take!(data_dir, file.data_dir.map(Some));
    take!(interfaces, file.interfaces);
    take!(listen, file.listen);
    take!(no_mdns, file.no_mdns);
    take!(video, file.video);
    take!(audio, file.audio);
    take!(display, file.display);
    take!(codec, file.codec);
    take!(video_fec, file.video_fec);
    take!(resolution, file.resolution);
    take!(ring_timeout, file.ring_timeout);
    take!(auto_answer, file.auto_answer);
    take!(accept_from, file.accept_from);
    take!(reject_others, file.reject_others);
    take!(no_console, file.no_console);
    take!(record, file.record.map(Some));
}

/// The effective settings, as `duet up --print-config` shows them (a valid
/// config file).
#[derive(Debug, Serialize)]
#[serde(rename_all = "kebab-case")]
struct Effective {
    name: String,
    data_dir: String,
    interface: Vec<String>,
    listen: Vec<String>,
    no_mdns: bool,
    video: String,
    audio: String,
    display: String,
    codec: String,
    video_fec: String,
    resolution: String,
    ring_timeout: f64,
    auto_answer: bool,
    accept_from: Vec<String>,
    reject_others: bool,
    no_console: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    record: Option<String>,
}

#[derive(Debug, Serialize)]
struct EffectiveFile {
    up: Effective,
}

/// `args` (defaults filled in) as a config file.
pub fn render(args: &UpArgs) -> String {
    let listen = if args.listen.is_empty() {
        crate::cli::default_listen()
    } else {
        args.listen.clone()
    };
    let display = format!("{:?}", args.display).to_lowercase();
    let up = Effective {
        name: args.name.clone().unwrap_or_else(crate::paths::default_name),
        data_dir: (args.data_dir.clone())
            .unwrap_or_else(crate::paths::default_data_dir)
            .display()
            .to_string(),
        interface: args.interfaces.clone(),
        listen: listen.iter().map(ToString::to_string).collect(),
        no_mdns: args.no_mdns,
        video: args.video.to_string(),
        audio: args.audio.to_string(),
        display: if display == "headless" {
            "none".into()
        } else {
            display
        },
        codec: args.codec.to_string(),
        video_fec: args.video_fec.to_string(),
        resolution: args.resolution.to_string(),
        ring_timeout: args.ring_timeout,
        auto_answer: args.auto_answer,
        accept_from: args.accept_from.iter().map(ToString::to_string).collect(),
        reject_others: args.reject_others,
        no_console: args.no_console,
        record: args.record.as_ref().map(|r| r.display().to_string()),
    };
    toml::to_string(&EffectiveFile { up }).unwrap_or_default()
}

#[cfg(test)]
mod tests;
