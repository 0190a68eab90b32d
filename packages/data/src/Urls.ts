/**
 * Public locations of the original data. Neither is reachable from the build machines; tests serve
 * generated files from 127.0.0.1 instead. Override with `empo data download --url`.
 */

/** The original EmpatheticDialogues release (Rashkin et al. 2019): train/valid/test CSV in one tarball. */
export const ED_TARBALL_URL = "https://dl.fbaipublicfiles.com/parlai/empatheticdialogues/empatheticdialogues.tar.gz"

/**
 * Hugging Face's automatic parquet conversion of `facebook/empathetic_dialogues`, one file per split,
 * under the `refs/convert/parquet` branch (`default/<split>/0000.parquet`). The layout is Hugging Face's
 * convention for converted datasets; if it moves, pass the new address with `--url`.
 */
export const hfParquetUrl = (split: "train" | "validation" | "test"): string =>
  `https://huggingface.co/datasets/facebook/empathetic_dialogues/resolve/refs%2Fconvert%2Fparquet/default/${split}/0000.parquet`

/** HF split names, as they appear in the parquet paths. */
export const HF_SPLITS = ["train", "validation", "test"] as const
