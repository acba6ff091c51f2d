// `acls` in stack config: optional; when set it replaces the least-privilege table wholesale (a
// stack that needs other rules states all of them). Unknown principals, topic roles, resource
// types and operations are refused by name.
import { defaultTopics, type TopicRole } from '../../services/core/topics';
import {
  aclOperations, aclPatternTypes, leastPrivilegeRules, rulePrincipals,
  type AclOperation, type AclRule, type ConsumerIds,
} from '../security/acl-rules';
import { ConfigReader, isPlainObject } from './reader';

const ruleKeys = ['principal', 'topic', 'group', 'transactionalId', 'cluster', 'patternType', 'operations'] as const;

export function readAclRules(raw: unknown, key: string, problems: string[], ids: ConsumerIds): AclRule[] {
  if (raw === undefined) return leastPrivilegeRules(ids);
  if (!Array.isArray(raw)) {
    problems.push(`${key} must be a list of rules, got ${JSON.stringify(raw)}`);
    return [];
  }
  return raw.flatMap((item: unknown, i) => {
    if (!isPlainObject(item)) {
      problems.push(`${key}[${i}] must be an object, got ${JSON.stringify(item)}`);
      return [];
    }
    const rule = readRule(new ConfigReader(item, `${key}[${i}]`, problems, ruleKeys));
    return rule ? [rule] : [];
  });
}

function readRule(r: ConfigReader): AclRule | undefined {
  const principal = r.oneOf('principal', [...rulePrincipals, ''] as const, '');
  r.check(principal !== '', 'principal', `is required: one of ${rulePrincipals.join(', ')} (admin and the brokers are super users)`);
  const operations = readOperations(r);
  const kinds = (['topic', 'group', 'transactionalId', 'cluster'] as const).filter((k) => r.has(k));
  if (kinds.length !== 1) {
    r.report(`needs exactly one of topic, group, transactionalId, cluster (got ${kinds.join(', ') || 'none'})`);
    return undefined;
  }
  const kind = kinds[0]!;
  const resource = readResource(r, kind);
  return resource && principal ? { principal, resource, operations } : undefined;
}

function readResource(r: ConfigReader, kind: 'topic' | 'group' | 'transactionalId' | 'cluster'): AclRule['resource'] | undefined {
  if (kind === 'cluster') return { type: 'cluster' };
  if (kind === 'topic') {
    const roles = Object.keys(defaultTopics);
    const role = r.oneOf('topic', roles as TopicRole[], 'raw');
    r.check(!r.has('patternType'), 'patternType', 'does not apply to topic roles (a role names one topic)');
    return roles.includes(String(r.raw('topic'))) ? { type: 'topic', role } : undefined;
  }
  const name = r.string(kind, '', { regex: /^[A-Za-z0-9._-]{1,200}$/, describe: '1-200 of A-Z a-z 0-9 . _ -' });
  const patternType = r.oneOf('patternType', aclPatternTypes, 'literal');
  return name ? { type: kind, name, patternType } : undefined;
}

function readOperations(r: ConfigReader): AclOperation[] {
  const list = r.list('operations');
  if (!list || list.length === 0) {
    r.problem('operations', `is required: a non-empty list of ${aclOperations.join(', ')}`);
    return [];
  }
  return list.filter((op, i): op is AclOperation => {
    const ok = typeof op === 'string' && (aclOperations as readonly string[]).includes(op);
    r.check(ok, `operations[${i}]`, `=${JSON.stringify(op)} must be one of ${aclOperations.join(', ')}`);
    return ok;
  });
}
