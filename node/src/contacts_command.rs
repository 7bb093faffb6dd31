//! `duet contacts [add|remove]`: reads and edits the contacts file of a
//! data dir directly (a running node rereads it when it changes).

use crate::cli::{ContactsAction, ContactsArgs};
use crate::contacts::{parse_peer_id, ContactsError, ContactsFile};
use crate::paths;

pub fn run(args: ContactsArgs) -> Result<(), ContactsError> {
    let dir = args.data_dir.unwrap_or_else(paths::default_data_dir);
    let mut file = ContactsFile::open(&dir)?;
    match args.action {
        None => {
            let list = file.contacts().list();
            if args.json {
                println!("{}", serde_json::to_string(&list).unwrap_or_default());
            } else if list.is_empty() {
                println!("no contacts yet (names are pinned as peers are first seen)");
            } else {
                let width = list
                    .iter()
                    .map(|c| c.name.chars().count())
                    .max()
                    .unwrap_or(0);
                for c in list {
                    println!("{:width$}  {}", c.name, c.peer_id);
                }
            }
        }
        Some(ContactsAction::Add { name, peer_id }) => {
            let peer = parse_peer_id(&peer_id)?;
            file.update(|c| {
                c.add(&name, peer);
                Ok(())
            })?;
            println!("{name} is {peer}");
        }
        Some(ContactsAction::Remove { name }) => {
            file.update(|c| c.remove(&name))?;
            println!("removed {name}");
        }
    }
    Ok(())
}
