/**
 * State: export the kernel's whole state to a file, or replace it with one (after a
 * confirmation). A bad file is refused by the kernel with a message, shown here.
 *
 * data-testids: state-export, state-export-result, state-export-error,
 * state-import-file (file input), state-import-confirm, state-import-cancel,
 * state-import-result, state-import-error.
 */
import { useState } from 'preact/hooks';
import { exportKernelState, importKernelState } from '../../surface-client/index.ts';
import { useAction, type KernelFeed } from '../kernel.ts';
import { ErrorLine, View, download, formatBytes } from '../ui.tsx';

interface Chosen {
  name: string;
  bytes: Uint8Array;
}

export function State({ feed }: { feed: KernelFeed }) {
  const exported = useAction<{ fileName: string; size: number }>();
  const imported = useAction<{ vats: number; crank: number; file: string }>();
  const [chosen, setChosen] = useState<Chosen | null>(null);

  const doExport = () =>
    exported.run(async () => {
      const { bytes, fileName } = await exportKernelState();
      download(bytes, fileName);
      return { fileName, size: bytes.byteLength };
    });

  const choose = async (event: Event) => {
    const input = event.currentTarget as HTMLInputElement;
    const file = input.files?.[0];
    input.value = '';
    if (!file) return;
    imported.reset();
    try {
      setChosen({ name: file.name, bytes: new Uint8Array(await file.arrayBuffer()) });
    } catch (err) {
      imported.setError(`could not read ${file.name}: ${(err as Error).message}`);
    }
  };
  const doImport = (file: Chosen) =>
    imported.run(async () => {
      try {
        const report = await importKernelState(file.bytes);
        // The kernel is a different one now: reload the live status and cranks.
        feed.connect({ reset: true });
        return { ...report, file: file.name };
      } finally {
        setChosen(null);
      }
    });

  return (
    <View name="state" title="Kernel state" busy={exported.busy || imported.busy}>
      <h3>Export</h3>
      <p class="muted">
        The whole kernel (store, vats, run queue) as one file, to import later here or in
        another profile.
      </p>
      <button
        type="button"
        data-testid="state-export"
        disabled={exported.busy}
        onClick={() => void doExport()}
      >
        {exported.busy ? 'Exporting…' : 'Export'}
      </button>
      <ErrorLine error={exported.error} testid="state-export-error" />
      {exported.result ? (
        <p class="ok" data-testid="state-export-result">
          Saved {exported.result.fileName} ({formatBytes(exported.result.size)}).
        </p>
      ) : null}

      <h3>Import</h3>
      <p class="muted">Replaces the kernel's entire state with the file's.</p>
      <input
        type="file"
        data-testid="state-import-file"
        disabled={imported.busy}
        onChange={(e) => void choose(e)}
      />
      {chosen ? (
        <div class="confirm" role="alertdialog">
          <p>
            Replace the kernel's entire state with {chosen.name} (
            {formatBytes(chosen.bytes.byteLength)})? The current state is lost unless you
            exported it.
          </p>
          <button
            type="button"
            class="danger"
            data-testid="state-import-confirm"
            disabled={imported.busy}
            onClick={() => void doImport(chosen)}
          >
            {imported.busy ? 'Importing…' : 'Replace the kernel state'}
          </button>
          <button
            type="button"
            data-testid="state-import-cancel"
            disabled={imported.busy}
            onClick={() => setChosen(null)}
          >
            Cancel
          </button>
        </div>
      ) : null}
      <ErrorLine error={imported.error} testid="state-import-error" />
      {imported.result ? (
        <p class="ok" data-testid="state-import-result">
          Imported {imported.result.file}: {imported.result.vats} vat
          {imported.result.vats === 1 ? '' : 's'}, at crank {imported.result.crank}.
        </p>
      ) : null}
    </View>
  );
}
