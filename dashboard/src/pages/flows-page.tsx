/** The flows this token may see: id, title, latest and published version. */
import type { ReactNode } from 'react';
import { Link } from 'wouter';
import type { FlowSummary } from '../../../src/client/index.js';
import { ErrorMessage } from '../components/error-message.js';
import { flowPath, formatTime } from '../format.js';
import { useSession } from '../session-context.js';
import { useApi } from '../use-api.js';

/** The flows page. */
export function FlowsPage(): ReactNode {
  const { client } = useSession();
  const flows = useApi<FlowSummary[]>(() => client.listFlows(), [client]);
  return (
    <section>
      <h1>Flows</h1>
      <ErrorMessage error={flows.error} />
      {flows.data && flows.data.length === 0 && <p className="empty">No flows this token may see.</p>}
      {flows.data && flows.data.length > 0 && (
        <table className="flows">
          <thead>
            <tr>
              <th>Flow</th>
              <th>Title</th>
              <th>Latest</th>
              <th>Published</th>
              <th>Updated</th>
            </tr>
          </thead>
          <tbody>
            {flows.data.map((flow) => (
              <tr key={flow.flowId} data-flow-id={flow.flowId}>
                <td>
                  <Link href={flowPath(flow.flowId)}>{flow.flowId}</Link>
                </td>
                <td>{flow.title ?? ''}</td>
                <td>v{flow.latestVersion}</td>
                <td>{flow.publishedVersion === null ? <span className="muted">none</span> : `v${flow.publishedVersion}`}</td>
                <td>{formatTime(flow.updatedAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
