// The panel's job views: a progress card per running job (frames, speed, time left, Cancel) and
// the recent jobs list (state, Run again, Place). Presentation only: actions are callbacks.
import type { ReactElement } from 'react';
import { progressText } from './format.js';
import type { JobView } from './job-watcher.js';

function stateLabel(job: JobView): string {
  if (job.lostContact) return 'engine stopped';
  const s = job.record?.state;
  if (s === 'done') return job.placed ? `placed on ${job.placed.trackName}` : job.placeError ? 'not placed' : 'done';
  return s ?? 'unknown';
}

export function JobProgressCard({ job, onCancel }: { job: JobView; onCancel: () => void }): ReactElement {
  const p = job.progress ?? job.record!.progress;
  const pct = p.framesTotal > 0 ? Math.round((100 * p.framesDone) / p.framesTotal) : 0;
  return (
    <section className="card progress" aria-label="Progress">
      <div className="sub">
        {job.clipName}: {job.lostContact ? 'waiting for the engine...' : job.record!.state === 'queued' ? 'queued' : 'rendering'}
      </div>
      <div className="bar" role="progressbar" aria-valuemin={0} aria-valuemax={100} aria-valuenow={pct}>
        <div style={{ width: `${pct}%` }} />
      </div>
      <div className="row">
        <span className="sub">{progressText(p)}</span>
        <button type="button" className="secondary" disabled={job.lostContact} onClick={onCancel}>
          Cancel
        </button>
      </div>
    </section>
  );
}

export function RecentJobs(props: { jobs: readonly JobView[]; busy: boolean; connected: boolean; onRunAgain: (job: JobView) => void; onPlace: (job: JobView) => void }): ReactElement {
  const { jobs, busy, connected } = props;
  return (
    <section className="card" aria-label="Recent jobs">
      <h2>Recent jobs</h2>
      {jobs.length === 0 ? (
        <p className="hint">None yet.</p>
      ) : (
        <ul className="jobs">
          {jobs.map((job) => (
            <li key={job.id} data-state={job.lostContact ? 'lost' : (job.record?.state ?? 'unknown')}>
              <span className="job-name">{job.clipName}</span>
              <span className={`state ${job.record?.state ?? ''}`}>{stateLabel(job)}</span>
              {(job.record?.state === 'interrupted' || job.record?.state === 'failed' || job.record?.state === 'cancelled') && (
                <button type="button" className="link" disabled={busy || !connected} onClick={() => props.onRunAgain(job)}>
                  Run again
                </button>
              )}
              {job.record?.state === 'done' && !job.placed && (
                <button type="button" className="link" disabled={busy} onClick={() => props.onPlace(job)}>
                  Place
                </button>
              )}
              {job.placeError && <div className="sub warn">{job.placeError}</div>}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
