// The Grafana dashboards as files for the provider's folder (grafana-provisioning.ts), rendered
// from the typed definitions in infra/dashboards/ and checked before anything is provisioned.
import { ConfigError } from '../../services/core/env';
import { dashboardFiles, type Dashboard } from '../dashboards/model';
import { pipelineOverview } from '../dashboards/pipeline-overview';
import { validateDashboards } from '../dashboards/validate';
import { windowAggregates } from '../dashboards/window-aggregates';

const dashboards: Record<string, Dashboard> = {
  [dashboardFiles.overview]: pipelineOverview,
  [dashboardFiles.windows]: windowAggregates,
};

/** File name → dashboard JSON text; throws if any dashboard fails the structural check. */
export function renderDashboards(): Record<string, string> {
  const files = Object.fromEntries(Object.entries(dashboards).map(([file, d]) => [file, `${JSON.stringify(d, null, 2)}\n`]));
  const problems = validateDashboards(files);
  if (problems.length > 0) throw new ConfigError(problems);
  return files;
}
