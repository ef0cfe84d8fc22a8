// The CleanPlate panel in Premiere: engine status, the selected clip, its clean plate
// (recaptured from the playhead frame or a chosen file), model and output, Apply matte with
// progress and cancel, then the matte imported and placed above the clip; recent jobs. This file
// is the view: the engine is found by engine-connection.ts and reached only over HTTP/SSE
// (src/shared/engine-client.ts), jobs are run and placed by matte-jobs.ts, and Premiere is
// reached only through the PanelHost given: the CEP panel's (host.jsx over evalScript) or the UXP
// plugin's (the premierepro module). Nothing here knows which.
import { useCallback, useEffect, useRef, useState, type ReactElement } from 'react';
import type { ClipDescription, MatteMode, SelectionInfo } from '../../../host/src/api.js';
import type { ModelInfo } from '../../../src/shared/api.js';
import { backgroundFromMedia, EngineError, fetchBackgroundImage } from '../../../src/shared/engine-client.js';
import type { PanelMemory, PlateMemo } from './clip-jobs.js';
import { EngineConnection, type EngineState } from './engine-connection.js';
import { timecode } from './format.js';
import { messageOf } from '../../../src/shared/error-message.js';
import { JobProgressCard, RecentJobs } from './job-views.js';
import { isActive, type JobView } from './job-watcher.js';
import { MatteJobs } from './matte-jobs.js';
import type { PanelHost } from './panel-host.js';

const PLATE_TYPES = ['png', 'jpg', 'jpeg', 'tif', 'tiff', 'webp', 'mov', 'mp4', 'mxf'];

function baseName(p: string): string {
  return p.split(/[\\/]/).pop() ?? p;
}

export function Panel({ host, memory }: { host: PanelHost; memory: PanelMemory }): ReactElement {
  const [engine, setEngine] = useState<EngineState>({ state: 'looking' });
  const [models, setModels] = useState<readonly ModelInfo[]>([]);
  const [model, setModel] = useState('');
  const [mode, setMode] = useState<MatteMode>('cutout');
  const [selection, setSelection] = useState<SelectionInfo | null>(null);
  const [hostProblem, setHostProblem] = useState('');
  const [plate, setPlate] = useState<{ memo: PlateMemo; url?: string } | undefined>();
  const [plateVersion, setPlateVersion] = useState(0);
  const [jobs, setJobs] = useState<readonly JobView[]>(() => memory.jobs());
  const [busy, setBusy] = useState('');
  const [error, setError] = useState('');
  const [notice, setNotice] = useState('');
  const [credential, setCredential] = useState('');

  const clips = selection?.clips ?? [];
  const usable = clips.filter((c) => !c.refusal);
  const current: ClipDescription | undefined = usable[0] ?? clips[0];
  const fps = selection?.sequence?.fps ?? 25;
  const fpsRef = useRef(fps);
  fpsRef.current = fps;

  // ---- engine and jobs: live as long as the panel ---------------------------------------------
  const link = useRef<{ engine: EngineConnection; jobs: MatteJobs } | null>(null);
  useEffect(() => {
    const connection = new EngineConnection({
      locate: () => host.locateEngine(),
      changed: (found) => {
        setEngine(found);
        if (found.state === 'connected') matteJobs.resume(found.endpoint);
      },
      models: (list) => {
        setModels(list);
        setModel((m) => m || (list.find((x) => x.default)?.id ?? list[0]?.id ?? ''));
      },
    });
    const matteJobs = new MatteJobs({
      host,
      memory,
      engine: connection,
      changed: setJobs,
      say: (level, text) => (level === 'notice' ? setNotice(text) : setError(text)),
      plateForgotten: () => setPlateVersion((v) => v + 1),
      fps: () => fpsRef.current,
    });
    link.current = { engine: connection, jobs: matteJobs };
    connection.start();
    return () => {
      matteJobs.stop();
      connection.stop();
    };
  }, [host, memory]);
  const connected = engine.state === 'connected';
  const lookAgain = (): Promise<unknown> => link.current?.engine.locate() ?? Promise.resolve();

  // ---- selection ----------------------------------------------------------------------------
  const refreshSelection = useCallback(async () => {
    try {
      setSelection(await host.call('getSelection'));
      setHostProblem('');
    } catch (err) {
      setHostProblem(messageOf(err));
    }
  }, [host]);
  useEffect(() => {
    void refreshSelection();
    const off = host.on('selectionChanged', () => void refreshSelection());
    const onFocus = (): void => void refreshSelection();
    window.addEventListener('focus', onFocus);
    return () => {
      off();
      window.removeEventListener('focus', onFocus);
    };
  }, [host, refreshSelection]);

  // ---- plate of the current clip ------------------------------------------------------------
  useEffect(() => {
    const memo = current ? memory.plate(current.mediaPath) : undefined;
    const ep = link.current?.engine.current();
    let url: string | undefined;
    let live = true;
    setPlate(memo ? { memo } : undefined);
    if (memo && ep) {
      fetchBackgroundImage(ep, memo.backgroundId).then(
        (blob) => {
          url = URL.createObjectURL(blob);
          if (live) setPlate({ memo, url });
        },
        (err: unknown) => {
          if (err instanceof EngineError && err.status === 404 && live) {
            memory.setPlate(current!.mediaPath, undefined);
            setPlate(undefined);
            setNotice('The engine no longer has the plate stored for this clip: recapture the background.');
          }
        },
      );
    }
    return () => {
      live = false;
      if (url) URL.revokeObjectURL(url);
    };
  }, [current?.mediaPath, connected, plateVersion, memory]); // eslint-disable-line react-hooks/exhaustive-deps

  // ---- actions: one at a time, their error shown --------------------------------------------
  const act = useCallback(async (label: string, work: (link: { engine: EngineConnection; jobs: MatteJobs }) => Promise<void>) => {
    setBusy(label);
    setError('');
    setNotice('');
    try {
      if (link.current) await work(link.current);
    } catch (err) {
      setError(messageOf(err));
    } finally {
      setBusy('');
    }
  }, []);

  const submitCredential = (): Promise<void> =>
    act('Saving key', async ({ engine: connection }) => {
      await host.saveCredential!(credential);
      setCredential('');
      const ep = await connection.locate();
      setNotice(ep ? 'Connected with the panel key; it is kept for next time.' : 'Panel key saved; the engine does not answer with it yet.');
    });

  const recaptureFromPlayhead = (): Promise<void> =>
    act('Recapturing', async ({ engine: connection }) => {
      const ep = connection.need();
      const frame = await host.call('getPlayheadFrame');
      const bg = await backgroundFromMedia(ep, { mediaPath: frame.clip.mediaPath, timeSeconds: frame.sourceSeconds });
      memory.setPlate(frame.clip.mediaPath, { backgroundId: bg.id, label: `frame ${timecode(frame.sourceTicks, frame.clip.mediaFps ?? fps)} of ${baseName(frame.clip.mediaPath)}` });
      setPlateVersion((v) => v + 1);
      setNotice(`Background recaptured from ${timecode(frame.sequenceTicks, fps)} on the timeline.`);
    });

  const plateFromFile = (): Promise<void> =>
    act('Reading plate', async ({ engine: connection }) => {
      const ep = connection.need();
      if (!current || current.refusal) throw new Error('Select the clip the clean plate belongs to first.');
      const file = await host.chooseFile('Choose a clean plate (the scene without the subject)', PLATE_TYPES);
      if (!file) return;
      const bg = await backgroundFromMedia(ep, { mediaPath: file });
      memory.setPlate(current.mediaPath, { backgroundId: bg.id, label: baseName(file) });
      setPlateVersion((v) => v + 1);
      setNotice(`Plate for "${current.name}": ${baseName(file)} (${bg.width}x${bg.height}).`);
    });

  const apply = (): Promise<void> => act('Starting', ({ jobs: j }) => j.apply({ clips, model, mode, needsPlate: models.find((m) => m.id === model)?.needsPlate ?? true }));
  const cancel = (job: JobView): Promise<void> => act('Cancelling', ({ jobs: j }) => j.cancel(job));
  const runAgain = (job: JobView): Promise<void> => act('Starting', ({ jobs: j }) => j.runAgain(job));
  const placeAgain = (job: JobView): Promise<void> => act('Placing', async ({ jobs: j }) => (job.record ? j.place(job, job.record) : undefined));

  const active = jobs.filter((j) => isActive(j.record));
  const availableModels = models.filter((m) => m.available);

  return (
    <main>
      <header>
        <h1>CleanPlate</h1>
        <span className={`engine-badge ${engine.state}`} aria-label="Engine status">
          {engine.state === 'connected'
            ? `Engine ${engine.health.version} · ${engine.health.providers.inUse[0] ?? 'cpu'}`
            : engine.state === 'looking'
              ? 'Looking for the engine...'
              : 'Engine not running'}
        </span>
      </header>

      {engine.state !== 'connected' && engine.state !== 'looking' && (
        <section className="card engine-off" aria-label="Engine">
          <p>{engine.reason}</p>
          {engine.state === 'not_installed' && (
            <p>
              After installing, click <em>Check again</em>: the panel starts the engine itself from then on.
            </p>
          )}
          {engine.state === 'not_running' && (
            <p>
              Start it: open a terminal in the CleanPlate folder and run <code>npm start</code>. This panel connects by itself once it runs.
            </p>
          )}
          <button type="button" onClick={() => void lookAgain()}>
            Check again
          </button>
          {host.saveCredential && (
            <form
              className="credential"
              onSubmit={(e) => {
                e.preventDefault();
                void submitCredential();
              }}
            >
              <label className="field">
                <span>
                  Engine started with another config folder? Paste its panel key or dock URL (<code>cleanplate obs dock-url</code>) once:
                </span>
                <input type="password" value={credential} onChange={(e) => setCredential(e.target.value)} aria-label="Panel key" autoComplete="off" />
              </label>
              <button type="submit" className="secondary" disabled={!credential}>
                Use panel key
              </button>
            </form>
          )}
        </section>
      )}

      <section className="card" aria-label="Selected clip">
        <h2>
          Clip
          <button type="button" className="link" onClick={() => void refreshSelection()}>
            Refresh
          </button>
        </h2>
        {hostProblem ? (
          <p className="warn">{hostProblem}</p>
        ) : !selection?.sequence ? (
          <p className="hint">Open a sequence and select a clip.</p>
        ) : clips.length === 0 ? (
          <p className="hint">Select a clip on the timeline of "{selection.sequence.name}".</p>
        ) : (
          <ul className="clips">
            {clips.map((c) => (
              <li key={c.nodeId} className={c.refusal ? 'refused' : ''}>
                <strong>{c.name}</strong> <span className="track">{c.trackName}</span>
                <div className="sub">
                  source {timecode(c.inTicks, c.mediaFps ?? fps)}-{timecode(c.outTicks, c.mediaFps ?? fps)} · at {timecode(c.startTicks, fps)}
                  {c.speed !== 1 ? ` · ${Math.round(c.speed * 100)}%` : ''}
                </div>
                {c.refusal && <p className="warn">{c.refusal.message}</p>}
              </li>
            ))}
          </ul>
        )}
      </section>

      <section className="card" aria-label="Background plate">
        <h2>Background</h2>
        <div className="plate">
          {plate?.url ? <img src={plate.url} alt="Plate in use" /> : <div className="plate-empty">{!plate ? 'no plate yet' : connected ? 'loading...' : 'engine offline'}</div>}
          <p className="sub">{plate ? plate.memo.label : 'Park the playhead on a frame without the subject, or pick a clean-plate file.'}</p>
        </div>
        <div className="row">
          <button type="button" disabled={!!busy || !connected} onClick={() => void recaptureFromPlayhead()}>
            Recapture background
          </button>
          <button type="button" className="secondary" disabled={!!busy || !connected} onClick={() => void plateFromFile()}>
            Choose plate file...
          </button>
        </div>
      </section>

      <section className="card" aria-label="Matte">
        <h2>Matte</h2>
        <label className="field">
          Model
          <select value={model} onChange={(e) => setModel(e.target.value)} disabled={availableModels.length === 0}>
            {models.map((m) => (
              <option key={m.id} value={m.id} disabled={!m.available} title={m.unavailableReason ?? m.description ?? ''}>
                {m.id}
                {m.available ? '' : ' (not installed)'}
              </option>
            ))}
          </select>
        </label>
        <fieldset className="field">
          <legend>Output</legend>
          <label>
            <input type="radio" name="mode" checked={mode === 'cutout'} onChange={() => setMode('cutout')} /> Cut-out (ProRes 4444 with alpha)
          </label>
          <label>
            <input type="radio" name="mode" checked={mode === 'trackMatte'} onChange={() => setMode('trackMatte')} /> Track Matte (luma matte)
          </label>
        </fieldset>
        <button type="button" className="primary" disabled={!!busy || !connected || usable.length === 0} onClick={() => void apply()}>
          Apply matte{usable.length > 1 ? ` to ${usable.length} clips` : ''}
        </button>
      </section>

      {active.map((job) => (
        <JobProgressCard key={job.id} job={job} onCancel={() => void cancel(job)} />
      ))}

      {busy && <p className="busy">{busy}...</p>}
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
      {notice && (
        <p role="status" className="notice">
          {notice}
        </p>
      )}

      <RecentJobs jobs={jobs} busy={!!busy} connected={connected} onRunAgain={(job) => void runAgain(job)} onPlace={(job) => void placeAgain(job)} />
    </main>
  );
}
