import type { DatasourceConfig } from '../config/schema.js';
import { PortholeError } from '../core/errors.js';
import type { Datasource } from './datasource.js';
import { MysqlDatasource } from './mysql.js';
import { PostgresDatasource } from './postgres.js';
import { SqliteDatasource } from './sqlite.js';

/** Builds a datasource; nothing connects until the first query. `baseDir` anchors SQLite paths. */
function createDatasource(name: string, config: DatasourceConfig, baseDir: string): Datasource {
  switch (config.driver) {
    case 'mysql':
      return new MysqlDatasource(name, config);
    case 'postgres':
      return new PostgresDatasource(name, config);
    case 'sqlite':
      return new SqliteDatasource(name, config, baseDir);
  }
}

/** The configured datasources by name, created on first use so a database that is down does not stop startup. */
export class Datasources {
  private readonly created = new Map<string, Datasource>();

  constructor(
    private readonly configs: Record<string, DatasourceConfig>,
    private readonly baseDir: string,
  ) {}

  get(name: string): Datasource {
    let datasource = this.created.get(name);
    if (!datasource) {
      const config = Object.prototype.hasOwnProperty.call(this.configs, name) ? this.configs[name] : undefined;
      if (!config) throw new PortholeError('INTERNAL', `unknown datasource "${name}"`);
      datasource = createDatasource(name, config, this.baseDir);
      this.created.set(name, datasource);
    }
    return datasource;
  }

  async closeAll(): Promise<void> {
    const all = [...this.created.values()];
    this.created.clear();
    await Promise.all(all.map((d) => d.close()));
  }
}
