//! `duet devices`: the cameras, microphones and speakers GStreamer's
//! DeviceMonitor finds, with the DEVICE string `duet up --video`,
//! `--audio` and `--speaker` take for each. It runs without a node: it
//! only asks GStreamer.

use duet_gst::{DeviceInfo, DeviceKind, MediaError};

/// Prints the devices: a JSON array (`[]` when there are none), or a table.
pub fn print(json: bool) -> Result<(), MediaError> {
    let devices = duet_gst::list_devices()?;
    if json {
        let line = serde_json::to_string(&devices)
            .map_err(|e| MediaError::Init(format!("encoding the device list: {e}")))?;
        println!("{line}");
    } else {
        print!("{}", table(&devices));
    }
    Ok(())
}

fn kind_word(k: DeviceKind) -> &'static str {
    match k {
        DeviceKind::Camera => "camera",
        DeviceKind::Microphone => "microphone",
        DeviceKind::Speaker => "speaker",
    }
}

/// One line per device: kind, DEVICE, name, formats.
pub fn table(devices: &[DeviceInfo]) -> String {
    if devices.is_empty() {
        return "no cameras, microphones or speakers found \
                (use --video test / --audio test, or --speaker none)\n"
            .into();
    }
    let width = devices.iter().map(|d| d.device.len()).max().unwrap_or(0);
    let mut out = String::new();
    for d in devices {
        out += &format!(
            "{:<10}  {:<width$}  {}  [{}]\n",
            kind_word(d.kind),
            d.device,
            d.name,
            d.caps
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_lines_up_devices_and_says_when_there_are_none() {
        assert!(table(&[]).starts_with("no cameras"));
        let t = table(&[
            DeviceInfo {
                kind: DeviceKind::Camera,
                name: "Webcam".into(),
                device: "/dev/video0".into(),
                caps: "video/x-raw; up to 1280x720".into(),
            },
            DeviceInfo {
                kind: DeviceKind::Speaker,
                name: "Built-in".into(),
                device: "hw:0,0".into(),
                caps: "audio/x-raw".into(),
            },
        ]);
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(lines.len(), 2);
        assert!(lines[0].starts_with("camera      /dev/video0  Webcam"));
        assert!(lines[1].starts_with("speaker     hw:0,0       Built-in"));
    }
}
