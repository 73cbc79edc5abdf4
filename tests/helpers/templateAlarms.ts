import { transformedTemplate } from './samTransform';

/**
 * The deployed template's alarms, read as CloudFormation receives them (after the SAM transform), for the tests of
 * tests/template: one alarm's properties, its metric queries, and the rule every alarm of the stack keeps — it
 * notifies the alarms topic (when one is given) of both alarm and recovery, and treats missing data as fine.
 */
const { Resources } = transformedTemplate();

export type Props = Record<string, unknown>;

export interface MetricQuery {
  Id: string;
  ReturnData?: boolean;
  Expression?: unknown;
  Period?: number;
  MetricStat?: {
    Metric: { Namespace: string; MetricName: string; Dimensions: { Name: string; Value: unknown }[] };
    Period: number;
    Stat: string;
  };
}

export const resources = Resources;
export const props = (id: string) => (Resources[id]?.Properties ?? {}) as Props;
export const metricsOf = (id: string) => (props(id).Metrics ?? []) as MetricQuery[];

/** The AlarmActions and OKActions of every alarm: the AlarmTopicArn parameter's topic, or none when it is empty. */
export const ALARM_TOPIC = {
  'Fn::If': ['HasAlarmTopic', [{ Ref: 'AlarmTopicArn' }], { Ref: 'AWS::NoValue' }],
};

/** Asserts that `id` is an alarm that notifies the alarms topic of alarm and recovery and ignores missing data. */
export function expectNotifiesTopic(id: string): Props {
  const alarm = props(id);
  expect(Resources[id]?.Type).toBe('AWS::CloudWatch::Alarm');
  expect(alarm.AlarmActions).toEqual(ALARM_TOPIC);
  expect(alarm.OKActions).toEqual(ALARM_TOPIC);
  expect(alarm.TreatMissingData).toBe('notBreaching');
  return alarm;
}
