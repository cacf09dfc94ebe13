/**
 * For each error a user can meet: a title and what to do about it, in Korean with the English
 * terms a user would search for. The engine's own message (with sizes, files, status codes)
 * is shown beside it.
 */
import type { ErrorCode } from '../errors';

export interface ErrorHelp {
  title: string;
  steps: string[];
  /** Which button fits best: try again, open settings (token, hub, dtype), or reload the page. */
  action: 'retry' | 'settings' | 'reload' | 'none';
}

export const ERROR_HELP: Record<ErrorCode, ErrorHelp> = {
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
  unsupported: {
    title: 'GPU가 이 모델을 실행하기에 부족합니다 (adapter too small)',
    steps: [
      '설정에서 저장 형식을 q4로 바꾸세요: 7B 모델은 q4로 약 4 GB, f16으로 약 13 GB가 필요합니다.',
      '컨텍스트 길이를 512나 1024로 줄이면 KV 캐시 메모리가 줄어듭니다.',
      '다른 탭이나 프로그램이 GPU를 쓰고 있다면 닫고 다시 시도하세요.',
    ],
    action: 'settings',
  },
  'out-of-memory': {
    title: 'GPU 메모리가 부족합니다 (out of memory)',
    steps: [
      '설정에서 저장 형식을 q4로 바꾸고, 컨텍스트 길이를 512나 1024로 줄이세요.',
      '다른 탭에 불러온 모델을 모델 관리에서 내리거나, GPU를 쓰는 다른 프로그램을 닫으세요.',
    ],
    action: 'settings',
  },
  'device-lost': {
    title: 'GPU 장치가 초기화되었습니다 (device lost)',
    steps: ['드라이버가 GPU를 재설정했습니다. 대화는 그대로 남아 있으며, 모델은 브라우저 캐시에서 다시 불러옵니다(다운로드 없음).'],
    action: 'retry',
  },
  'download-failed': {
    title: '다운로드에 실패했습니다 (download failed)',
    steps: ['인터넷 연결을 확인하고 다시 시도하세요. 받은 부분부터 이어서 받습니다.', '회사·학교 네트워크가 huggingface.co를 막고 있다면 설정에서 허브 주소(미러)를 바꾸세요.'],
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
      '모델 관리에서 쓰지 않는 캐시 모델을 삭제하세요.',
      '"저장 공간 영구 보존"을 허용하면 브라우저가 더 큰 공간을 줍니다. 디스크 여유 공간도 확인하세요.',
      '캐시 없이도 모델은 실행되지만, 다음 방문 때 다시 다운로드합니다.',
    ],
    action: 'none',
  },
  'integrity-failed': {
    title: '파일이 손상되었습니다 (integrity check failed)',
    steps: ['다운로드 중 파일이 바뀌었거나 손상되었습니다. 다시 시도하면 새로 받습니다.'],
    action: 'retry',
  },
  'bad-model': {
    title: '지원하지 않는 모델 파일입니다 (bad model)',
    steps: ['LLaMA 구조(LlamaForCausalLM)의 safetensors 또는 PyTorch 체크포인트 저장소인지 확인하세요.'],
    action: 'settings',
  },
  'bad-input': { title: '잘못된 입력입니다 (bad input)', steps: ['설정 값을 확인하세요.'], action: 'settings' },
  'context-full': {
    title: '대화가 컨텍스트 길이를 넘었습니다 (context full)',
    steps: ['메시지를 줄이거나 새 대화를 시작하세요. 설정에서 컨텍스트 길이를 늘릴 수도 있습니다.'],
    action: 'none',
  },
  'shader-compile': { title: 'GPU 셰이더 컴파일 오류 (engine bug)', steps: ['엔진의 버그입니다. 아래 메시지와 브라우저·GPU 정보를 함께 알려 주세요.'], action: 'reload' },
  cancelled: { title: '중지됨 (stopped)', steps: [], action: 'retry' },
  internal: { title: '예기치 못한 오류 (internal error)', steps: ['엔진의 버그입니다. 페이지를 새로 고친 뒤 다시 시도하고, 계속되면 아래 메시지를 알려 주세요.'], action: 'reload' },
};
