//! `facepass models check`: every configured detector and recognizer (and the pack's) read
//! from its file and checked against its declared kind, with what the file declares. Exits
//! with an error when a model the configuration runs does not fit.

use facepass_embedder_onnx::models::{self, describe_file};

use crate::settings::Settings;

#[derive(Debug, clap::Args)]
pub struct ModelsArgs {
    #[command(subcommand)]
    pub command: ModelsCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum ModelsCommand {
    /// Check every configured model against its file and print what each file declares.
    Check,
}

pub fn run(settings: Settings, args: ModelsArgs) -> anyhow::Result<()> {
    let ModelsCommand::Check = args.command;
    let m = &settings.models;
    let (catalogue, detector, recognizer) = m.catalogue()?;
    if !m.pack.as_os_str().is_empty() {
        println!(
            "pack {}: detector {detector}, recognizer {recognizer}",
            m.pack.display()
        );
    }
    let mut failed_in_use = Vec::new();
    let mut report = |name: &str, in_use: bool, outcome: Result<(String, String), String>| {
        let mark = if in_use { " (in use)" } else { "" };
        match outcome {
            Ok((summary, detail)) => println!("ok      {name}{mark}: {summary}\n{detail}"),
            Err(e) => {
                println!("FAILED  {name}{mark}: {e}");
                if in_use {
                    failed_in_use.push(name.to_owned());
                }
            }
        }
    };
    for (name, entry) in &catalogue.detectors {
        let outcome = models::read(&m.dir, &entry.file)
            .and_then(|file| {
                let config = file.detector(entry)?;
                Ok((
                    format!(
                        "{:?} detector, {}, input {} ({})",
                        config.kind,
                        file.path.display(),
                        config.input_size,
                        if config.dynamic_input {
                            "any aspect ratio"
                        } else {
                            "square"
                        }
                    ),
                    describe_file(&file),
                ))
            })
            .map_err(|e| e.to_string());
        let in_use = *name == detector || *name == m.fine_detector;
        report(&format!("detector {name}"), in_use, outcome);
    }
    for (name, entry) in &catalogue.recognizers {
        let outcome = models::read(&m.dir, &entry.file)
            .and_then(|file| {
                let config = file.recognizer(name, entry)?;
                Ok((
                    format!(
                        "recognizer, {}, {}-d, embedding space {}",
                        file.path.display(),
                        config.dim,
                        config.id
                    ),
                    describe_file(&file),
                ))
            })
            .map_err(|e| e.to_string());
        report(&format!("recognizer {name}"), *name == recognizer, outcome);
    }
    if !failed_in_use.is_empty() {
        anyhow::bail!(
            "models in use do not fit their files: {}",
            failed_in_use.join(", ")
        );
    }
    settings.similarity()?;
    println!("calibration.{recognizer}: present");
    Ok(())
}
