/**
 * For each error a user can meet: a heading that says what happened and only the steps that can
 * fix it, in Korean with the English terms a user would search for. The engine's own message
 * (with sizes, files, status codes) is shown beside it. Advice depends on what was asked for:
 * switching to q4 is offered only when q4 was not loaded, a shorter context only when the
 * context is longer than the shortest one, so `errorHelp` takes the load's settings.
 */
import type { ErrorCode, ErrorData } from '../../errors';
import { ARCHITECTURES } from '../../model/families';
import { CONTEXT_LENGTHS } from '../settings/settings';

export interface ErrorHelp {
  title: string;
  steps: string[];
  /** Which button fits best: try again, open settings (token, hub, dtype), or reload the page. */
  action: 'retry' | 'settings' | 'reload' | 'none';
}

/** The settings the failed load or answer ran with, where known. */
export interface HelpContext {
  dtype?: string;
  contextLength?: number;
}

/** The settings panel's shortest and longest context. */
const SHORTEST_CONTEXT = CONTEXT_LENGTHS[0];
const LONGEST_CONTEXT = CONTEXT_LENGTHS[CONTEXT_LENGTHS.length - 1];

const STEP = {
  q4: '설정에서 저장 형식을 q4로 바꾸세요: 7B 모델의 가중치가 약 13 GB에서 약 4 GB로 줄어듭니다.',
  shorterContext: `설정에서 컨텍스트 길이를 줄이세요 (${SHORTEST_CONTEXT}이나 ${CONTEXT_LENGTHS[1]}): KV 캐시 메모리가 그만큼 줄어듭니다.`,
  otherModels: '다른 탭에 불러온 모델을 모델 관리에서 내리거나, GPU를 쓰는 다른 탭·프로그램을 닫으세요.',
};

const FIXED: Record<Exclude<ErrorCode, 'unsupported' | 'out-of-memory' | 'context-full'>, ErrorHelp> = {
  'webgpu-unavailable': {
    title: 'WebGPU를 사용할 수 없습니다 (WebGPU unavailable)',
    steps: [
      'Chrome 또는 Edge 113 이상(데스크톱), Android Chrome 121 이상, Safari 26 이상에서 열어 주세요. Firefox는 141 이상(Windows)에서 지원합니다.',
      'Linux Chrome/Chromium은 chrome://flags 에서 "Unsafe WebGPU Support"(#enable-unsafe-webgpu)와 Vulkan(#enable-vulkan)을 켜고 다시 시작하세요.',
      'chrome://gpu 에서 WebGPU가 "Hardware accelerated"인지 확인하고, 하드웨어 가속이 꺼져 있다면 설정에서 켜세요.',
      '이 페이지는 https:// 또는 http://localhost(127.0.0.1)에서만 WebGPU를 쓸 수 있습니다.',
    ],
    action: 'reload',
  },
  'device-lost': {
    title: 'GPU 장치가 초기화되었습니다 (device lost)',
    steps: ['드라이버가 GPU를 재설정했습니다. 대화는 그대로 남아 있으며, 모델은 브라우저 캐시에서 다시 불러옵니다(다운로드 없음).'],
    action: 'retry',
  },
  'download-failed': {
    title: '다운로드에 실패했습니다 (download failed)',
    steps: [
      '인터넷 연결을 확인하고 다시 시도하세요. 이미 받아 변환한 부분은 저장되어 있어, 그다음부터 이어서 받습니다.',
      '회사·학교 네트워크가 huggingface.co를 막고 있다면 설정에서 허브 주소(미러)를 바꾸세요.',
    ],
    action: 'retry',
  },
  unauthorized: {
    title: '접근 권한이 필요합니다 (unauthorized)',
    steps: [
      '이 저장소는 비공개이거나 사용 동의(gated)가 필요합니다. Hugging Face에서 모델 페이지의 약관에 동의하세요.',
      'huggingface.co/settings/tokens 에서 읽기(read) 토큰을 만들어 설정의 "액세스 토큰"에 넣으세요.',
    ],
    action: 'settings',
  },
  'not-found': {
    title: '모델을 찾을 수 없습니다 (not found)',
    steps: ['저장소 이름을 org/name 형식으로 정확히 입력했는지 확인하세요 (예: ureca07/korean-vicuna-7b-1.1).', '허브 주소가 맞는지 설정에서 확인하세요.'],
    action: 'settings',
  },
  'quota-exceeded': {
    title: '브라우저 저장 공간이 부족합니다 (quota exceeded)',
    steps: [
      '모델 관리에서 쓰지 않는 캐시 모델(일부만 받은 것 포함)을 삭제하세요.',
      '"저장 공간 영구 보존"을 허용하면 브라우저가 더 큰 공간을 줍니다. 디스크 여유 공간도 확인하세요.',
      '캐시 없이도 모델은 실행되지만, 다음 방문 때 다시 다운로드합니다.',
    ],
    action: 'none',
  },
  'integrity-failed': {
    title: '파일이 손상되었습니다 (integrity check failed)',
    steps: ['다운로드 중 파일이 바뀌었거나 저장된 사본이 손상되었습니다. 다시 시도하면 손상된 부분을 버리고 새로 받습니다.'],
    action: 'retry',
  },
  'bad-model': {
    title: '이 엔진이 읽을 수 없는 모델입니다 (unsupported model)',
    steps: [
      `${ARCHITECTURES.join(', ')} 구조의 safetensors 또는 PyTorch(.bin) 체크포인트 저장소만 읽을 수 있습니다. 아래 메시지가 어느 파일·값이 문제인지 알려 줍니다.`,
      '사용자 지정 탭이라면 다른 저장소를 입력하세요. 설정을 바꿔서는 해결되지 않습니다.',
    ],
    action: 'none',
  },
  'bad-input': { title: '잘못된 입력입니다 (bad input)', steps: ['설정 값을 확인하세요.'], action: 'settings' },
  'shader-compile': { title: 'GPU 셰이더 컴파일 오류 (engine bug)', steps: ['엔진의 버그입니다. 아래 메시지와 브라우저·GPU 정보를 함께 알려 주세요.'], action: 'reload' },
  cancelled: { title: '중지됨 (stopped)', steps: [], action: 'retry' },
  internal: { title: '예기치 못한 오류 (internal error)', steps: ['엔진의 버그입니다. 페이지를 새로 고친 뒤 다시 시도하고, 계속되면 아래 메시지를 알려 주세요.'], action: 'reload' },
};

/** Heading, steps and button for `error`, given what the load or answer asked for. */
export function errorHelp(error: ErrorData, context: HelpContext = {}): ErrorHelp {
  const detail = error.detail ?? {};
  const dtype = typeof detail.dtype === 'string' ? detail.dtype : context.dtype;
  const contextLength = typeof detail.contextLength === 'number' ? detail.contextLength : context.contextLength;
  const canUseQ4 = dtype !== undefined && dtype !== 'q4';
  const canShorten = contextLength === undefined || contextLength > SHORTEST_CONTEXT;
  switch (error.code) {
    case 'unsupported': {
      if (typeof detail.binding !== 'string') {
        // Not the GPU: a browser feature (the Origin Private File System) is missing or refused.
        return {
          title: '이 브라우저에서 쓸 수 없는 기능입니다 (unsupported by this browser)',
          steps: ['Chrome 또는 Edge 최신 버전에서 열어 주세요. 시크릿(사생활 보호) 창에서는 브라우저 저장소(OPFS)를 쓸 수 없습니다.'],
          action: 'none',
        };
      }
      const steps =
        detail.bindingKind === 'kv-cache' && canShorten ? [STEP.shorterContext]
        : detail.shrinksAtQ4 === true && canUseQ4 ? [STEP.q4]
        : [];
      return {
        title: 'GPU의 버퍼 크기 한도를 넘는 모델입니다 (GPU buffer limit)',
        steps: steps.length > 0 ? steps : ['설정으로는 줄일 수 없는 버퍼입니다: 버퍼 한도가 더 큰 GPU나 브라우저에서 열어 보세요.'],
        action: steps.length > 0 ? 'settings' : 'none',
      };
    }
    case 'out-of-memory': {
      const fixes = [...(canUseQ4 ? [STEP.q4] : []), ...(canShorten ? [STEP.shorterContext] : [])];
      return { title: 'GPU 메모리가 부족합니다 (out of memory)', steps: [...fixes, STEP.otherModels], action: fixes.length > 0 ? 'settings' : 'retry' };
    }
    case 'context-full': {
      const longer = contextLength === undefined || contextLength < LONGEST_CONTEXT;
      return {
        title: '대화가 컨텍스트 길이를 넘었습니다 (context full)',
        steps: ['메시지를 줄이거나 새 대화를 시작하세요.', ...(longer ? ['설정에서 컨텍스트 길이를 늘릴 수도 있습니다.'] : [])],
        action: 'none',
      };
    }
    default:
      return FIXED[error.code] ?? FIXED.internal;
  }
}
