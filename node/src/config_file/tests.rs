#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::*;
use crate::cli::{Cli, Command};
use clap::{CommandFactory, FromArgMatches};

const KIOSK: &str = r#"
# the lobby screen
[up]
name = "lobby"
video = "test"
audio = "none"
display = "none"
codec = "h264"
resolution = "1280x720"
ring-timeout = 10
auto-answer = true
accept-from = ["frontdesk", "web:desk"]
reject-others = true
interface = ["eth0"]
listen = ["/ip4/0.0.0.0/tcp/4001"]
"#;

#[test]
fn every_up_option_parses() {
    let s = parse(KIOSK).unwrap();
    assert_eq!(s.name.as_deref(), Some("lobby"));
    assert_eq!(s.video, Some(VideoSource::Test));
    assert_eq!(s.audio, Some(AudioSource::None));
    assert_eq!(s.display, Some(Display::Headless));
    assert_eq!(s.codec, Some(VideoCodec::H264));
    assert_eq!(s.resolution, Some(duet_gst::Resolution::HD));
    assert_eq!(s.ring_timeout, Some(10.0));
    assert_eq!(s.auto_answer, Some(true));
    assert_eq!(
        s.accept_from,
        Some(vec![
            AcceptEntry::Name("frontdesk".into()),
            AcceptEntry::Web("desk".into())
        ])
    );
    assert_eq!(s.interfaces, Some(vec!["eth0".to_string()]));
    assert_eq!(s.listen.map(|l| l.len()), Some(1));
    assert_eq!(parse("").unwrap(), UpSettings::default());
}

#[test]
fn errors_name_their_line() {
    let cases = [
        ("[up]\nname = \"a\"\nnmae = \"b\"\n", 3, "nmae"),
        ("[up]\n\nvideo = \"webcam9\"\n", 3, "video"),
        ("[up]\ncodec = \"av1\"\n", 2, "codec"),
        ("[up]\nresolution = \"1280\"\n", 2, "resolution"),
        ("[up]\nring-timeout = \"soon\"\n", 2, ""),
        ("[up]\nring-timeout = 0\n", 2, "ring-timeout"),
        (
            "[up]\nlisten = [\"/ip4/1.2.3.4/tcp/1\",\n  \"nonsense\"]\n",
            3,
            "listen",
        ),
        ("[up]\naccept-from = [\"\"]\n", 2, "accept-from"),
        ("[up]\nname = \"\"\n", 2, "name"),
        ("[brokr]\nport = 1\n", 1, "brokr"),
        ("[up\n", 1, ""),
    ];
    for (text, line, word) in cases {
        match parse(text) {
            Err((l, msg)) => {
                assert_eq!(l, line, "{text:?}: {msg}");
                assert!(msg.contains(word), "{text:?}: {msg}");
            }
            Ok(s) => panic!("{text:?} parsed: {s:?}"),
        }
    }
}

fn up_args(argv: &[&str]) -> (UpArgs, clap::ArgMatches) {
    let matches = Cli::command().try_get_matches_from(argv).unwrap();
    let cli = Cli::from_arg_matches(&matches).unwrap();
    let Command::Up(args) = cli.command else {
        panic!("not up")
    };
    let sub = matches.subcommand_matches("up").unwrap().clone();
    (args, sub)
}

#[test]
fn the_command_line_overrides_the_file() {
    let (mut args, m) = up_args(&["duet", "up", "--codec", "vp8", "--accept-from", "bob"]);
    let from_cli = |id: &str| m.value_source(id) == Some(clap::parser::ValueSource::CommandLine);
    apply(parse(KIOSK).unwrap(), &mut args, from_cli);
    assert_eq!(args.codec, VideoCodec::Vp8, "command line wins");
    assert_eq!(args.accept_from, vec![AcceptEntry::Name("bob".into())]);
    assert_eq!(args.name.as_deref(), Some("lobby"), "file fills the rest");
    assert_eq!(args.video, VideoSource::Test);
    assert!(args.auto_answer && args.reject_others);
    assert_eq!(args.ring_timeout, 10.0);
    // What --print-config shows reads back as the same settings.
    let shown = render(&args);
    let back = parse(&shown).unwrap();
    assert_eq!(back.codec, Some(VideoCodec::Vp8));
    assert_eq!(
        back.resolution,
        Some(duet_gst::Resolution::HD),
        "from the file"
    );
    assert_eq!(
        back.accept_from,
        Some(vec![AcceptEntry::Name("bob".into())])
    );
    assert_eq!(back.display, Some(Display::Headless));
}
